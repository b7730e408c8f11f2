"""The data-sharing console: catalogue, quality reports, grants and their approval, the negative
list, and the call log with statistics. Thin: every read and change goes through services."""

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.accounts import roles as perms
from tongban.accounts.models import Department
from tongban.core.errors import InvalidInput
from tongban.core.http import apply_errors, domain_errors, query_string, request_actor

from . import services
from .forms import CallFilterForm, DecisionForm, GrantFilterForm, GrantRequestForm, NegativeForm
from .models import Resource, levels


def _page(request, qs, size=30):
    return Paginator(qs, size).get_page(request.GET.get("page"))


@domain_errors
def resource_list(request):
    actor = request_actor(request)
    return render(
        request,
        "exchange/resource_list.html",
        {"resources": services.resources(actor), "levels": dict(levels())},
    )


@domain_errors
def resource_detail(request, code):
    actor = request_actor(request)
    resource = services.get_resource(actor, code)
    label = dict(levels())
    fields = [{**f, "level_label": label.get(f["level"], f["level"])} for f in resource.fields]
    banned = {e.field: e.reason for e in services.negative_list(actor).filter(resource=resource)}
    context = {
        "resource": resource,
        "fields": fields,
        "banned": banned,
        "grants": services.grants(actor, resource=code)[:20],
        "may_request": actor.can(perms.EXCHANGE_REQUEST),
        "held": resource.adapter in ("table", "file"),
    }
    if services.may_manage(actor, resource) and context["held"]:
        problem = request.GET.get("problem", "")
        context.update(
            quality=services.quality_report(actor, code),
            page=_page(request, services.dirty_rows(actor, code, problem=problem)),
            problem=problem,
            query=query_string(request),
            stale_before=timezone.localdate() - dt.timedelta(days=resource.stale_after_days),
        )
    return render(request, "exchange/resource_detail.html", context)


def _departments_for(actor, permission):
    return [d for d in Department.objects.order_by("path") if actor.can(permission, d)]


@domain_errors
def grant_list(request):
    actor = request_actor(request)
    form = GrantFilterForm(
        request.GET or None,
        resources=services.resources(actor),
        departments=Department.objects.filter(data_grants__isnull=False).distinct().order_by("path"),
    )
    form.is_valid()
    data = getattr(form, "cleaned_data", {}) or {}
    grants = services.grants(
        actor,
        status=data.get("status", ""),
        resource=data.get("resource", ""),
        consumer=data.get("consumer", ""),
    )
    return render(
        request,
        "exchange/grant_list.html",
        {
            "form": form,
            "page": _page(request, grants),
            "query": query_string(request),
            "may_request": actor.can(perms.EXCHANGE_REQUEST),
        },
    )


@domain_errors
def grant_request(request):
    actor = request_actor(request)
    code = request.GET.get("resource") or request.POST.get("resource") or ""
    resource = Resource.objects.filter(code=code, is_active=True).first() if code else None
    if resource is None:
        return render(request, "exchange/grant_pick.html", {"resources": services.resources(actor)})
    resource = services.get_resource(actor, code)
    banned = set(services.negative_list(actor).filter(resource=resource).values_list("field", flat=True))
    departments = _departments_for(actor, perms.EXCHANGE_REQUEST)
    form = GrantRequestForm(request.POST or None, resource=resource, departments=departments, banned=banned)
    if request.method == "POST" and form.is_valid():
        try:
            grant = services.request_grant(
                actor,
                consumer_code=form.cleaned_data["consumer"],
                resource_code=resource.code,
                fields=form.cleaned_data["fields"],
                purpose=form.cleaned_data["purpose"],
                legal_basis=form.cleaned_data["legal_basis"],
                valid_until=form.cleaned_data["valid_until"],
            )
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Requested. The provider and then the data authority decide."))
            return redirect("exchange:grant_detail", reference=grant.reference)
    return render(
        request, "exchange/grant_request.html", {"resource": resource, "form": form, "banned": banned}
    )


@domain_errors
def grant_detail(request, reference):
    actor = request_actor(request)
    grant = services.get_grant(actor, reference)
    return render(
        request,
        "exchange/grant_detail.html",
        {
            "grant": grant,
            "step": services.may_decide(actor, grant),
            "may_revoke": services.may_revoke(actor, grant),
            "form": DecisionForm(),
            "calls": services.calls(actor).filter(grant=grant)[:20],
        },
    )


@require_POST
@domain_errors
def grant_decide(request, reference):
    actor = request_actor(request)
    form = DecisionForm(request.POST)
    form.is_valid()
    approve = request.POST.get("decision") == "approve"
    try:
        grant = services.decide(actor, reference, approve=approve, note=form.cleaned_data.get("note", ""))
    except InvalidInput as exc:
        for problems in exc.fields.values():
            for problem in problems:
                messages.error(request, str(problem.message))
    else:
        messages.success(
            request, _("Decision recorded: %(status)s.") % {"status": grant.get_status_display()}
        )
    return redirect("exchange:grant_detail", reference=reference)


@require_POST
@domain_errors
def grant_revoke(request, reference):
    try:
        services.revoke_grant(request_actor(request), reference, reason=request.POST.get("reason", ""))
    except InvalidInput as exc:
        for problems in exc.fields.values():
            for problem in problems:
                messages.error(request, str(problem.message))
    else:
        messages.success(request, _("The grant is revoked; calls under it are refused from now on."))
    return redirect("exchange:grant_detail", reference=reference)


@domain_errors
def negative_list(request):
    actor = request_actor(request)
    authority = services.is_authority(actor)
    form = NegativeForm(request.POST or None, resources=services.resources(actor)) if authority else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            services.add_negative(
                actor,
                resource_code=form.cleaned_data["resource"],
                field_key=form.cleaned_data["field"],
                reason=form.cleaned_data["reason"],
            )
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The field is on the negative list; no call returns it from now on."))
            return redirect("exchange:negative_list")
    return render(
        request,
        "exchange/negative_list.html",
        {"entries": services.negative_list(actor), "form": form, "authority": authority},
    )


@require_POST
@domain_errors
def negative_remove(request):
    services.remove_negative(
        request_actor(request),
        resource_code=request.POST.get("resource", ""),
        field_key=request.POST.get("field", ""),
    )
    messages.success(request, _("Removed from the negative list."))
    return redirect("exchange:negative_list")


def _bars(rows: list[dict]) -> list[dict]:
    """Rows with bar widths (answered / refused+failed / not found) for the inline SVG chart."""
    peak = max((r["total"] for r in rows), default=0) or 1
    out = []
    scale = 300 / peak
    for r in rows:
        ok, missing = r["answered"] * scale, r["not_found"] * scale
        bad = (r["refused"] + r["failed"]) * scale
        out.append(
            {
                **r,
                "ok_w": round(ok, 1),
                "nf_x": round(200 + ok, 1),
                "nf_w": round(missing, 1),
                "bad_x": round(200 + ok + missing, 1),
                "bad_w": round(bad, 1),
            }
        )
    return out


@domain_errors
def call_log(request):
    actor = request_actor(request)
    departments = Department.objects.order_by("path")
    form = CallFilterForm(
        request.GET or None,
        departments=departments.filter(kind="bureau"),
        providers=departments.filter(data_resources__isnull=False).distinct(),
    )
    form.is_valid()
    data = {k: v for k, v in (getattr(form, "cleaned_data", {}) or {}).items() if v}
    by = "provider" if request.GET.get("by") == "provider" else "consumer"
    calls = services.calls(actor, **data)
    stats = _bars(services.call_stats(actor, by=by, **data))
    kpis = None
    if services.is_authority(actor):
        until = data.get("until") or timezone.localdate()
        kpis = services.sharing_kpis(data.get("since") or until - dt.timedelta(days=29), until)
    return render(
        request,
        "exchange/call_log.html",
        {
            "form": form,
            "page": _page(request, calls, 50),
            "query": query_string(request),
            "stats": stats,
            "by": by,
            "chart_height": 24 * len(stats) + 8,
            "kpis": kpis,
        },
    )
