"""Helpers every app's views share: safe redirects, service errors onto forms, refusals onto pages."""

import functools

from django import forms
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .authz import actor_for_request
from .errors import Conflict, InvalidInput, NotAuthenticated, NotFound, NotPermitted


def request_actor(request):
    """The signed-in caller as an actor; NotAuthenticated (→ the login page under domain_errors)
    for an anonymous visitor."""
    actor = actor_for_request(request)
    if not actor.is_authenticated:
        raise NotAuthenticated()
    return actor


def query_string(request) -> str:
    """The page's filters as a query string without its page number, for pagination links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def safe_next(request, fallback: str = "/") -> str:
    """The ?next= target when it stays on this site; otherwise the fallback (no open redirects)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def apply_errors(form: forms.Form, exc: InvalidInput) -> None:
    """Put each field problem a service reported under its field (or at the top of the form)."""
    for name, problems in exc.fields.items():
        target = name if name in form.fields else None
        for problem in problems:
            form.add_error(target, str(problem.message))


def domain_errors(view):
    """Turn refusals from services into the right page: login, 404, 403, or the reason (409, 422)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotAuthenticated:
            return redirect(f"{reverse('accounts:login')}?next={request.get_full_path()}")
        except NotFound:
            return render(request, "web/error.html", {"status": 404}, status=404)
        except NotPermitted as exc:
            # A refusal that can be overcome (e.g. too low an identity assurance) says how.
            link = getattr(exc, "link", "")
            context = {"status": 403, "message": exc.message if link else "", "link": link}
            return render(request, "web/error.html", context, status=403)
        except (Conflict, InvalidInput) as exc:
            # A view that does not put these beside a form still answers with the reason, not a 500.
            problems = [str(p.message) for ps in getattr(exc, "fields", {}).values() for p in ps]
            context = {"status": exc.status, "message": exc.message, "problems": problems}
            return render(request, "web/error.html", context, status=exc.status)

    return wrapped
