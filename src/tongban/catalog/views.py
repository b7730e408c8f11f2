"""The public service portal (search, 办事指南, 一件事) and the staff catalogue console."""

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tongban.accounts import roles as perms
from tongban.accounts.models import Department
from tongban.core import calendar
from tongban.core.authz import actor_for_request, require
from tongban.core.errors import Conflict, InvalidInput, NotAuthenticated
from tongban.core.http import apply_errors, domain_errors

from . import search, services
from .audience import life_events
from .forms import ItemDraftForm, ManageFilterForm
from .models import Audience, BundleMember, BundleVersion, ItemVersion, ServiceItem, VersionStatus


def _promised_date(days: int | None) -> dt.date | None:
    if days is None:
        return None
    return calendar.get_calendar().add_working_days(timezone.localdate(), days)


# --- public portal -------------------------------------------------------------------------------------


def portal(request):
    """办事大厅: search, then 个人服务 / 法人服务 tabs with life-event tiles and the popular items of
    each, the bundles (一件事) and the departments."""
    query = request.GET.get("q", "").strip()[:100]
    audience = request.GET.get("for", "")
    audience = audience if audience in (Audience.PERSON, Audience.ENTERPRISE) else Audience.PERSON
    events = life_events(audience)
    event = next((e for e in events if e.key == request.GET.get("event")), None)
    hits = search.search(query, 20) if query else []
    event_hits = _serving(search.search(event.query, 80), audience)[:24] if event and not query else []
    serving = [audience, Audience.BOTH]
    return render(
        request,
        "catalog/portal.html",
        {
            "query": query,
            "hits": hits,
            "audience": audience,
            "events": events,
            "event": event,
            "event_hits": event_hits,
            "high_frequency": services.published_items()
            .filter(high_frequency=True, audience__in=serving)
            .order_by("name")[:24],
            "bundles": BundleVersion.objects.filter(status=VersionStatus.PUBLISHED).select_related("bundle"),
            "departments": Department.objects.annotate(
                items=Count("service_items", filter=Q(service_items__current__isnull=False))
            )
            .filter(items__gt=0)
            .order_by("-items", "name"),
        },
    )


def _serving(hits: list, audience: str) -> list:
    """The hits that serve this audience (or both); bundles are kept."""
    codes = [h.code for h in hits if h.kind != "bundle"]
    serves = dict(
        ServiceItem.objects.filter(code__in=codes, current__isnull=False).values_list(
            "code", "current__audience"
        )
    )
    return [h for h in hits if h.kind == "bundle" or serves.get(h.code) in (audience, Audience.BOTH)]


@domain_errors
def guide(request, code):
    version = services.get_published(code)
    bundles = (
        BundleVersion.objects.filter(
            status=VersionStatus.PUBLISHED,
            members__item_version__item=version.item,
        )
        .select_related("bundle")
        .distinct()
    )
    return render(
        request,
        "catalog/guide.html",
        {
            "version": version,
            "materials": version.materials.all(),
            "bundles": bundles,
            "promised_date": _promised_date(version.promised_limit_days),
        },
    )


@require_GET
@domain_errors
def application_form(request, code, kind):
    """空白表格 / 样表 of an item's application form, as PDF."""
    name, body = services.application_form_paper(code, sample=kind == "sample")
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, name)
    # The same catalogue version gives the same bytes; a new version has a new published date.
    response["Cache-Control"] = "public, max-age=3600"
    return response


@domain_errors
def bundle_guide(request, code):
    version = services.get_published_bundle(code)
    members = version.members.select_related("item_version__item__department")
    return render(
        request,
        "catalog/bundle.html",
        {
            "version": version,
            "members": members,
            "merged": services.merged_form(version),
            "promised_date": _promised_date(version.promised_limit_days),
        },
    )


def department_items(request, code):
    department = Department.objects.filter(code=code).first()
    items = services.published_items().filter(item__department__code=code).order_by("name")
    page = Paginator(items, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/department.html",
        {"department": department, "page": page, "query": ""},
        status=200 if department else 404,
    )


# --- staff console -------------------------------------------------------------------------------------


def _actor(request):
    actor = actor_for_request(request)
    if not actor.is_authenticated:
        raise NotAuthenticated()
    return actor


@domain_errors
def manage_list(request):
    actor = _actor(request)
    require(actor, perms.CATALOG_MANAGE)
    departments = [d for d in Department.objects.order_by("path") if actor.can(perms.CATALOG_MANAGE, d)]
    form = ManageFilterForm(request.GET or None, departments=departments)
    form.is_valid()
    data = getattr(form, "cleaned_data", {}) or {}
    drafts = ItemVersion.objects.filter(item=OuterRef("pk"), status=VersionStatus.DRAFT)
    items = (
        ServiceItem.objects.filter(actor.scope_q(perms.CATALOG_MANAGE))
        .select_related("department", "current")
        .annotate(has_draft=Exists(drafts))
        .order_by("department__path", "code")
    )
    if data.get("department"):
        items = items.filter(department__code=data["department"])
    if data.get("q"):
        items = items.filter(Q(code__icontains=data["q"]) | Q(versions__name__contains=data["q"])).distinct()
    if data.get("state") == "draft":
        items = items.filter(has_draft=True)
    elif data.get("state") == "detailed":
        items = items.filter(current__promised_limit_days__isnull=False)
    elif data.get("state") == "incomplete":
        items = items.filter(current__promised_limit_days__isnull=True)
    page = Paginator(items, 30).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "catalog/manage_list.html", {"form": form, "page": page, "query": query.urlencode()}
    )


@domain_errors
def manage_item(request, code):
    actor = _actor(request)
    versions = services.item_versions(actor, code)
    item = ServiceItem.objects.select_related("department", "current").get(code=code)
    draft = next((v for v in versions if v.status == VersionStatus.DRAFT), None)
    base = draft or item.current
    form = ItemDraftForm(request.POST or None, initial=ItemDraftForm.initial_from(base) if base else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_item(actor, code, **form.changes(base))
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("Saved to the draft. The public sees the change once it is published.")
            )
            return redirect("catalog:manage_item", code=code)
    return render(
        request,
        "catalog/manage_item.html",
        {
            "item": item,
            "versions": versions,
            "draft": draft,
            "form": form,
            "bundles": BundleMember.objects.filter(item_version__item=item).select_related(
                "bundle_version__bundle"
            ),
        },
    )


@require_POST
@domain_errors
def manage_publish(request, code):
    try:
        version = services.publish_item(_actor(request), code)
    except (Conflict, InvalidInput) as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Version %(n)s is published.") % {"n": version.number})
    return redirect("catalog:manage_item", code=code)


@require_POST
@domain_errors
def manage_discard(request, code):
    try:
        services.discard_draft(_actor(request), code)
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The draft is discarded."))
    return redirect("catalog:manage_item", code=code)
