from django.conf import settings
from django.http import HttpResponsePermanentRedirect, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_POST

from tongban.accounts import roles as perms
from tongban.accounts import services as account_services
from tongban.accounts.actors import actor_for_request
from tongban.core import calendar
from tongban.core import services as core_services
from tongban.core.errors import NotPermitted
from tongban.core.http import safe_next

from .context_processors import CARE_COOKIE


def home(request):
    actor = actor_for_request(request)
    if not actor.is_authenticated:
        return render(request, "web/landing.html")
    if actor.is_citizen:
        return render(
            request, "web/home_citizen.html", _citizen_centre(actor, reveal=request.GET.get("reveal") == "1")
        )
    return render(request, "web/home_staff.html", _staff_overview(actor))


def _citizen_centre(actor, *, reveal: bool) -> dict:
    """我的: what waits for the citizen (补正, ratings, results), applications they saved to finish
    later (暂存), their latest cases, their licences and messages, and their own identity masked
    unless they ask to see it."""
    from tongban.cases import services as case_services
    from tongban.licences import services as licence_services

    try:
        licences = len(licence_services.wallet(actor))
    except NotPermitted:
        licences = None  # identity not verified to the level licences need: the page says so
    return {
        "enterprises": account_services.my_enterprises(actor),
        "card": account_services.my_card(actor, reveal=reveal),
        "overview": case_services.my_overview(actor),
        "drafts": case_services.my_drafts(actor),
        "unread": account_services.unread_count(actor),
        "licences": licences,
    }


def _staff_overview(actor) -> dict:
    """The workbench's figures, each only for those whose roles cover it."""
    today = timezone.localdate()
    cal = calendar.get_calendar()
    overview = {
        "roles": actor.grants,
        "window": actor.staff.window if actor.staff else None,
        "today_is_working_day": cal.is_working_day(today),
        "next_working_day": cal.add_working_days(today, 1),
        "unknown_years": calendar.unknown_years() if actor.can(core_services.CALENDAR_MANAGE) else [],
    }
    if actor.can(perms.STAFF_VIEW):
        overview["staff_count"] = account_services.list_staff(actor).count()
    if actor.can(core_services.AUDIT_VIEW):
        overview["checkpoint"] = core_services.latest_checkpoint(actor)
        overview["journal_entries"] = core_services.list_journal(actor).count()
    return overview


@require_POST
def care_mode(request):
    """关怀模式 is a cookie, so it works before login and for anonymous visitors too."""
    response = HttpResponseRedirect(safe_next(request))
    if request.POST.get("care") == "1":
        response.set_cookie(CARE_COOKIE, "1", max_age=365 * 24 * 3600, samesite="Lax", secure=settings.HTTPS)
    else:
        response.delete_cookie(CARE_COOKIE, samesite="Lax")
    return response


def healthz(request):
    """Liveness: the process answers. Whether it can serve (database, queue) is /readyz."""
    return JsonResponse({"status": "ok"})


def favicon(request):
    """The icon's hashed static address is known only once static files are collected, so it is
    looked up per request (a permanent redirect: browsers ask once)."""
    return HttpResponsePermanentRedirect(static("web/favicon.svg"))


def csrf_failure(request, reason=""):
    return render(request, "web/error.html", {"status": 403, "reason": "csrf"}, status=403)


def error_404(request, exception=None):
    return render(request, "web/error.html", {"status": 404}, status=404)


def error_403(request, exception=None):
    return render(request, "web/error.html", {"status": 403}, status=403)


def error_500(request):
    # No context processors here: the database may be what failed.
    from django.http import HttpResponseServerError
    from django.template import loader

    from tongban.core import context

    body = loader.get_template("web/500.html").render({"request_id": context.request_id()})
    return HttpResponseServerError(body)
