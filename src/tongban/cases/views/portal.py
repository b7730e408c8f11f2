"""Case pages: the citizen portal — apply (一表申请), my cases, one case with what to do next, downloads.

Every page reads and writes through `tongban.cases.services`; the services decide who may see or do
what, and the pages only turn their answers into HTML: field problems next to the field they name,
refusals into the login page, 404 or 403, and conflicts into a message on the case page.
"""

import datetime as dt
import secrets
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tongban.accounts import identity
from tongban.accounts import services as account_services
from tongban.accounts.models import Department
from tongban.catalog import services as catalog
from tongban.core import calendar
from tongban.core import events as event_log
from tongban.core.authz import actor_for_request
from tongban.core.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, NotPermitted
from tongban.core.http import apply_errors, domain_errors, query_string
from tongban.licences import services as licence_services
from tongban.workflow.views import diagram_context

from .. import services
from ..models import (
    OPEN_CASE_STATUSES,
    CaseStatus,
    Decision,
    MaterialStatus,
    RatingLevel,
)
from ..services import progress

ACCEPT = ".pdf,.jpg,.jpeg,.png,.ofd,.docx"
PER_PAGE = 20
RECEIPT = "cases.portal.receipt"  # session key: the case number whose receipt the next case page shows
WITHDRAWABLE = (CaseStatus.SUBMITTED, CaseStatus.IN_PROGRESS, CaseStatus.SUPPLEMENT)
WITH_DOCUMENT = (CaseStatus.ISSUED, CaseStatus.REVOKED)
RATEABLE = (CaseStatus.ISSUED, CaseStatus.NOT_ACCEPTED, CaseStatus.REVOKED)
# 容缺 materials may follow while the case is open and even after issue; 补正 has its own form.
NO_UPLOADS = (CaseStatus.WITHDRAWN, CaseStatus.NOT_ACCEPTED, CaseStatus.REVOKED, CaseStatus.SUPPLEMENT)


def _actor(request):
    actor = actor_for_request(request)
    if not actor.is_authenticated:
        raise NotAuthenticated()
    return actor


def _citizen(request):
    actor = _actor(request)
    if actor.is_citizen:
        identity.require_assurance(actor, "apply")  # the refusal links to 实名认证
    if getattr(actor, "person", None) is None:
        raise NotPermitted(_("Log in with a citizen account to apply."))
    return actor


# --- labels: one place for what the applicant reads about statuses, colours and events -------------

STATUS_BADGE = {
    CaseStatus.SUBMITTED: "badge",
    CaseStatus.IN_PROGRESS: "badge",
    CaseStatus.SUPPLEMENT: "badge badge-warn",
    CaseStatus.DECIDED: "badge badge-ok",
    CaseStatus.ISSUED: "badge badge-ok",
    CaseStatus.NOT_ACCEPTED: "badge badge-bad",
    CaseStatus.WITHDRAWN: "badge badge-muted",
    CaseStatus.REVOKED: "badge badge-bad",
}


@dataclass
class TimelineEntry:
    at: dt.datetime
    label: str
    note: str
    department: str
    kind: str  # a CSS hook: "done", "wait", "bad"


def timeline(events, *, for_applicant: bool = True) -> list[TimelineEntry]:
    """The case's events as the applicant reads them, oldest first.

    Steps appear once, when finished (the open ones are marked on the diagram); staff see every
    event, the applicant not the internal ones.
    """
    events = list(events)
    names = {
        code: short or name
        for code, short, name in Department.objects.filter(
            code__in={e.department_code for e in events if e.department_code}
        ).values_list("code", "short_name", "name")
    }
    entries = []
    for event in events:
        activity, detail = event.activity, event.detail or {}
        # What the applicant reads (core.events, "applicant"); events for staff only (reminders,
        # transfers, escalations) have no such label and are not listed to them.
        told = event_log.own_label(activity, "applicant")
        kind, note = "done", ""
        if activity.startswith("work:") and told is None:
            if event.lifecycle == "start":
                continue
            label = activity.split(":", 1)[1]
            decision = detail.get("decision", "")
            if decision == "reject":
                note, kind = str(Decision.REJECT.label), "bad"
            elif decision:
                note = _("done")
        elif told is not None:
            label = str(told)
            if activity.startswith("work:") and event.lifecycle == "start":
                label = _("%(step)s opened") % {"step": label}
                kind = "wait"
            elif activity == "case.decided":
                decision = detail.get("decision", "")
                note = str(Decision(decision).label) if decision in Decision.values else ""
                if detail.get("basis") == "rule":
                    note += _(" — automatically, by published rules (秒批)")
                elif detail.get("basis") == "commitment":
                    note += _(" — on your commitment (告知承诺)")
                kind = "bad" if decision == "reject" else "done"
            elif activity in ("case.supplement_requested", "case.procedure_started"):
                kind = "wait"
            elif activity in ("case.not_accepted", "case.revoked", "case.withdrawn"):
                kind = "bad"
            elif activity == "case.rated":
                score = detail.get("score")
                note = str(RatingLevel(score).label) if score in RatingLevel.values else ""
            elif activity == "case.material_supplied":
                note = detail.get("material", "")
        else:
            if for_applicant:
                continue
            label = activity
        code = event.department_code or ""
        entries.append(
            TimelineEntry(
                at=event.occurred_at,
                label=label,
                note=note,
                department=names.get(code, ""),
                kind=kind,
            )
        )
    return entries


def _last_day(due_at) -> dt.date | None:
    """A deadline is the midnight after its last day; people are told the last day."""
    if due_at is None:
        return None
    return (timezone.localtime(due_at) - dt.timedelta(microseconds=1)).date()


def _expected_day(limit_days) -> dt.date | None:
    """The day a case would be promised by if it were accepted today (before acceptance)."""
    if limit_days is None:
        return None
    try:
        return calendar.get_calendar().add_working_days(timezone.localdate(), limit_days)
    except ValueError:  # past the calendar's known years
        return None


# --- apply: 一表申请 ---------------------------------------------------------------------------------


@dataclass
class Target:
    """An item or a bundle as the apply page shows it."""

    kind: str  # "item" | "bundle"
    code: str
    name: str
    department: str
    fields: list[dict]
    materials: list[dict]  # name, required, core, exempt, notes
    commitment_allowed: bool
    auto_approvable: bool
    limit_days: int | None
    guide_url: str
    ready: bool  # the guide is complete enough to apply online


def _item_target(code: str) -> Target:
    version = catalog.get_published(code)
    return Target(
        kind="item",
        code=code,
        name=version.name,
        department=version.item.department.name,
        fields=list(version.form_fields or []),
        materials=[
            {
                "name": m.name,
                "required": m.required,
                "core": m.core,
                "exempt": bool(m.licence_type or m.data_query),
                "notes": m.notes,
            }
            for m in version.materials.all()
        ],
        commitment_allowed=version.commitment_allowed,
        auto_approvable=version.auto_approvable,
        limit_days=version.promised_limit_days,
        guide_url=reverse("catalog:guide", args=[code]),
        # As apply_online: an item whose guide has no promised limit yet is applied for at a window.
        ready=version.promised_limit_days is not None,
    )


def _bundle_target(code: str) -> Target:
    version = catalog.get_published_bundle(code)
    merged = catalog.merged_form(version)
    return Target(
        kind="bundle",
        code=code,
        name=version.name,
        department=version.bundle.lead_department.name,
        fields=list(merged.fields),
        materials=[
            {
                "name": m["name"],
                "required": m["required"],
                "core": m["core"],
                "exempt": bool(m.get("licence_type") or m.get("data_query")),
                "notes": "",
            }
            for m in merged.materials
        ],
        commitment_allowed=False,
        auto_approvable=False,
        limit_days=version.promised_limit_days,
        guide_url=reverse("catalog:bundle", args=[code]),
        ready=True,
    )


class EnterpriseSelect(forms.Select):
    """Options carry the enterprise's name and code, so portal.js can fill them into the form."""

    def __init__(self, *args, details=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.details = details or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if value in self.details:
            option["attrs"].update({"data-uscc": value, "data-name": self.details[value]})
        return option


def _input_for(spec: dict) -> forms.Field:
    """A form field for one field of the catalogue form. The service judges the values (required,
    type, options), so the widget only helps typing: the right keyboard on a phone, a date picker."""
    kind, label = spec.get("type", "text"), spec["label"]
    attrs = {"aria-required": "true"} if spec.get("required") else {}
    if kind == "checkbox":
        field = forms.BooleanField(label=label, required=False)
    elif kind == "select":
        choices = [("", _("Please choose"))] + [(o, o) for o in spec.get("options", [])]
        field = forms.CharField(
            label=label, required=False, widget=forms.Select(choices=choices, attrs=attrs)
        )
    else:
        widgets = {
            "textarea": lambda: forms.Textarea(attrs={**attrs, "rows": 3, "maxlength": 2000}),
            "number": lambda: forms.TextInput(attrs={**attrs, "inputmode": "decimal"}),
            "date": lambda: forms.DateInput(attrs={**attrs, "type": "date"}),
            "phone": lambda: forms.TextInput(
                attrs={**attrs, "type": "tel", "inputmode": "tel", "autocomplete": "tel", "maxlength": 20}
            ),
            "id_number": lambda: forms.TextInput(
                attrs={**attrs, "maxlength": 18, "autocomplete": "off", "spellcheck": "false"}
            ),
            "uscc": lambda: forms.TextInput(
                attrs={**attrs, "maxlength": 18, "autocapitalize": "characters", "spellcheck": "false"}
            ),
        }
        widget = widgets.get(kind, lambda: forms.TextInput(attrs={**attrs, "maxlength": 2000}))()
        field = forms.CharField(label=label, required=False, strip=False, widget=widget)
    field.mandatory = bool(spec.get("required"))  # web/_field.html marks it; the service enforces it
    return field


class ApplyForm(forms.Form):
    """The one form (一表申请) of an item or a bundle, built from the catalogue's form fields.

    Field names are the ones the service reports problems under (`data.<key>`, `enterprise_uscc`,
    `commitment`); a material's file input is `files.<n>`, since material names are free text.
    """

    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, target: Target, enterprises, reuse_allowed: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.target = target
        if enterprises:
            names = {e.uscc: e.name for e, _link in enterprises}
            self.fields["enterprise_uscc"] = forms.CharField(
                label=_("Apply for"),
                required=False,
                widget=EnterpriseSelect(
                    choices=[("", _("Myself"))]
                    + [(e.uscc, f"{e.name}（{e.uscc}）") for e, _l in enterprises],
                    details=names,
                ),
                help_text=_("An enterprise you represent, or yourself."),
            )
        for spec in target.fields:
            self.fields[f"data.{spec['key']}"] = _input_for(spec)
        self.material_names = {}
        for i, material in enumerate(target.materials):
            name = f"files.{i}"
            self.material_names[material["name"]] = name
            self.fields[name] = forms.FileField(
                label=material["name"],
                required=False,
                widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
            )
            self.fields[name].material = material
        if reuse_allowed and any(m["exempt"] for m in target.materials):
            self.fields["reuse_consent"] = forms.BooleanField(
                label=_(
                    "I agree that the e-licences and shared data the government holds about me (and the "
                    "enterprise I apply for) stand in for these materials (免提交)."
                ),
                required=False,
            )
        if target.commitment_allowed:
            self.fields["commitment"] = forms.BooleanField(
                label=_("I sign the commitment above (告知承诺) and ask to be approved on it."),
                required=False,
            )

    def data_fields(self):
        return [self[f"data.{spec['key']}"] for spec in self.target.fields]

    def material_fields(self):
        return [self[name] for name in self.material_names.values()]

    def add_service_errors(self, exc: InvalidInput) -> None:
        """Each problem under the field it names; what names no field of this form goes on top."""
        for name, problems in exc.fields.items():
            if name.startswith("files."):
                name = self.material_names.get(name[len("files.") :], name)
            target = name if name in self.fields else None
            for problem in problems:
                self.add_error(target, str(problem.message))


def _read(upload) -> tuple[str, bytes]:
    """An uploaded file as the services take it. Reading stops one byte past the size limit: the
    service then says the file is too large without the whole of it being held in memory."""
    return upload.name, upload.read(settings.TONGBAN_UPLOAD_MAX_BYTES + 1)


@require_http_methods(["GET", "POST"])
@domain_errors
def apply_item(request, code):
    return _apply(request, "item", code)


@require_http_methods(["GET", "POST"])
@domain_errors
def apply_bundle(request, code):
    return _apply(request, "bundle", code)


def _posted_values(request, target) -> dict:
    data = {}
    for spec in target.fields:
        value = request.POST.get(f"data.{spec['key']}", "")
        if spec.get("type") == "checkbox":
            value = True if value else None
        data[spec["key"]] = value
    return data


def _draft_initial(draft) -> dict:
    initial = {f"data.{key}": value for key, value in draft.data.items()}
    initial["enterprise_uscc"] = draft.enterprise_uscc
    initial["reuse_consent"] = draft.reuse_consent
    initial["commitment"] = draft.commitment
    return initial


def _apply(request, kind: str, code: str):
    actor = _citizen(request)
    target = _item_target(code) if kind == "item" else _bundle_target(code)
    codes = {"item_code": code if kind == "item" else "", "bundle_code": code if kind == "bundle" else ""}
    enterprises = account_services.my_enterprises(actor)
    reuse_allowed = identity.meets(actor, "reuse")
    draft = services.draft_for(actor, **codes) if target.ready else None
    resumed = False
    if request.method == "POST":
        form = ApplyForm(
            request.POST, request.FILES, target=target, enterprises=enterprises, reuse_allowed=reuse_allowed
        )
        form.is_valid()
        files = {
            material: _read(request.FILES[name])
            for material, name in form.material_names.items()
            if name in request.FILES
        }
        values = {
            "data": _posted_values(request, target),
            "enterprise_uscc": request.POST.get("enterprise_uscc", ""),
            "files": files,
            "remove": [name for name in request.POST.getlist("remove") if name in form.material_names],
            "commitment": bool(request.POST.get("commitment")),
            "reuse_consent": reuse_allowed and bool(request.POST.get("reuse_consent")),
        }
        try:
            if request.POST.get("action") == "save":
                services.save_draft(actor, **codes, **values)
                messages.success(
                    request,
                    _("Saved. Come back to it from 我的 (My services) within %(days)s days.")
                    % {"days": settings.TONGBAN_DRAFT_DAYS},
                )
                return redirect(request.path)
            case = services.apply_with_draft(
                actor, **codes, **values, idempotency_key=request.POST.get("idempotency_key", "")[:80]
            )
        except InvalidInput as exc:
            form.add_service_errors(exc)
            # What could be kept was saved with the draft: show the files it holds now.
            draft = services.draft_for(actor, **codes)
        else:
            request.session[RECEIPT] = case.number
            return redirect("cases:my_case", number=case.number)
    else:
        initial = {"idempotency_key": secrets.token_urlsafe(24)}
        if draft is not None:
            initial.update(_draft_initial(draft))
            resumed = True
        form = ApplyForm(initial=initial, target=target, enterprises=enterprises, reuse_allowed=reuse_allowed)
    kept = draft.files if draft else {}
    return render(
        request,
        "cases/portal/apply.html",
        {
            "target": target,
            "item_code": codes["item_code"],
            "form": form,
            "draft": draft,
            "resumed": resumed,
            "kept": kept,
            "files_lost": request.method == "POST"
            and any(
                name not in kept for name in form.material_names if form.material_names[name] in request.FILES
            ),
            "commitment_text": services.commitment_text() if target.commitment_allowed else "",
            "expected_day": _expected_day(target.limit_days),
            "reusable": _reusable(actor, kind, code, target, enterprises),
            "reuse_needs_level": (
                identity.required_level("reuse")
                if not reuse_allowed and any(m["exempt"] for m in target.materials)
                else 0
            ),
        },
    )


@require_POST
@domain_errors
def discard_draft(request, draft_id: int):
    """放弃草稿, from the application page or the 我的 centre."""
    actor = _citizen(request)
    services.discard_draft(actor, draft_id)
    messages.success(request, _("The saved application is discarded."))
    back = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=False)
    return redirect(back if safe else "web:home")


def _reusable(actor, kind: str, code: str, target, enterprises) -> list[dict]:
    """For each holder the applicant may apply as (themself, each enterprise), what would stand in
    for which material: shown beside the materials so the applicant knows what consent gives."""
    if not any(m["exempt"] for m in target.materials) or not identity.meets(actor, "reuse"):
        return []
    holders = [("", "")] + [(e.uscc, e.name) for e, _link in enterprises]
    found = []
    for uscc, name in holders:
        preview = services.reuse_preview(
            actor,
            item_code=code if kind == "item" else "",
            bundle_code=code if kind == "bundle" else "",
            enterprise_uscc=uscc,
        )
        found.append({"uscc": uscc, "name": name, "materials": {k: v.summary for k, v in preview.items()}})
    return found


# --- my cases ----------------------------------------------------------------------------------------


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("All")), ("open", gettext_lazy("Still open")), *CaseStatus.choices],
        widget=forms.Select(attrs={"data-autosubmit": ""}),
    )


@require_GET
@domain_errors
def my_cases(request):
    actor = _actor(request)
    form = CaseFilterForm(request.GET or None)
    status = form.cleaned_data.get("status", "") if form.is_valid() else ""
    cases = services.list_my_cases(actor).select_related("enterprise").order_by("-submitted_at", "-id")
    if status == "open":
        cases = cases.filter(status__in=OPEN_CASE_STATUSES)
    elif status:
        cases = cases.filter(status=status)
    page = Paginator(cases, PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [
        {
            "case": case,
            "badge": STATUS_BADGE.get(case.status, "badge"),
            "colour": services.status_colour(case, now),
            "promised": _last_day(services.current_due(case, now)),
        }
        for case in page.object_list
    ]
    return render(
        request,
        "cases/portal/my_cases.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query_string(request),
            "filtered": bool(status),
        },
    )


# --- one case ----------------------------------------------------------------------------------------


class SupplementForm(forms.Form):
    """The answer to a 补正 notice: a file for every material it asks for, all sent at once."""

    note = forms.CharField(
        label=gettext_lazy("Note to the reviewer (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 2000}),
    )

    def __init__(self, *args, items: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.material_names = {}
        for i, item in enumerate(items):
            name = f"files.{i}"
            self.material_names[item["material"]] = name
            self.fields[name] = forms.FileField(
                label=item["material"],
                required=False,
                help_text=item.get("reason", ""),
                widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
            )
            self.fields[name].mandatory = True
        self.order_fields([*self.material_names.values(), "note"])

    def add_service_errors(self, exc: InvalidInput) -> None:
        for name, problems in exc.fields.items():
            if name.startswith("files."):
                name = self.material_names.get(name[len("files.") :], name)
            target = name if name in self.fields else None
            for problem in problems:
                self.add_error(target, str(problem.message))


class SupplyForm(forms.Form):
    """One outstanding material (容缺 or still to provide), uploaded on its own."""

    material = forms.CharField(widget=forms.HiddenInput)
    file = forms.FileField(
        label=gettext_lazy("File"), required=False, widget=forms.ClearableFileInput(attrs={"accept": ACCEPT})
    )

    def __init__(self, *args, material, **kwargs):
        kwargs.setdefault("initial", {"material": material.name})
        kwargs.setdefault("auto_id", f"id_supply_{material.pk}_%s")
        super().__init__(*args, **kwargs)
        self.outstanding = material  # not `material`: that name is the form's hidden field
        self.due_day = _last_day(material.due_at)
        self.fields["file"].mandatory = True

    def add_service_errors(self, exc: InvalidInput) -> None:
        for name, problems in exc.fields.items():
            target = "file" if name == "file" or name.startswith("files.") else None
            for problem in problems:
                self.add_error(target, str(problem.message))


class RateForm(forms.Form):
    score = forms.TypedChoiceField(
        label=gettext_lazy("How satisfied are you with this service?"),
        required=False,
        coerce=int,
        choices=RatingLevel.choices,
        widget=forms.RadioSelect(attrs={"data-rating": ""}),
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"),
        required=False,
        help_text=gettext_lazy("Required when you are dissatisfied: tell us what went wrong."),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1000}),
    )

    def add_service_errors(self, exc: InvalidInput) -> None:
        for name, problems in exc.fields.items():
            target = name if name in self.fields else None
            for problem in problems:
                self.add_error(target, str(problem.message))


def _open_supplement(detail):
    return next((s for s in detail.supplements if s.responded_at is None), None)


def _outstanding(detail) -> list:
    """Materials the applicant can still upload on their own: 容缺 ones and ones not yet provided."""
    if detail.case.status in NO_UPLOADS:
        return []
    return [m for m in detail.materials if m.status in (MaterialStatus.MISSING, MaterialStatus.PENDING)]


def _results(actor, case, mine: bool) -> dict:
    """The licences the case issued, for its applicant's page; one who has not verified their
    identity to the level licences need is told so instead of seeing none."""
    if not mine or case.status != CaseStatus.ISSUED:
        return {"results": [], "results_need_assurance": False}
    try:
        return {
            "results": licence_services.results_of_case(actor, case.number),
            "results_need_assurance": False,
        }
    except NotPermitted:
        return {"results": [], "results_need_assurance": True}


def _case_page(request, actor, number, *, supplement_form=None, supply_form=None, rate_form=None):
    detail = services.case_detail(actor, number)
    case = detail.case
    mine = detail.is_applicant
    supplement = _open_supplement(detail)
    if mine and supplement is not None and case.status == CaseStatus.SUPPLEMENT and supplement_form is None:
        supplement_form = SupplementForm(items=supplement.items)
    supply_forms = [
        supply_form
        if supply_form is not None and supply_form.outstanding.pk == m.pk
        else SupplyForm(material=m)
        for m in (_outstanding(detail) if mine else [])
    ]
    can_rate = mine and detail.rating is None and case.status in RATEABLE
    if can_rate and rate_form is None:
        rate_form = RateForm()
    diagram = None
    if detail.process is not None and not mine:  # the engine's diagram is for staff; citizens get the strip
        diagram = diagram_context(
            detail.process,
            xml_url=reverse("cases:my_case_bpmn", args=[case.number]),
            current=detail.current_nodes,
            completed=detail.completed_nodes,
        )
    departments = dict(
        (pk, short or name)
        for pk, short, name in Department.objects.filter(
            pk__in={w.department_id for w in detail.open_work}
        ).values_list("pk", "short_name", "name")
    )
    # a bundle's steps run in its members' processes: say which item each is for
    members = progress.bundle_members(case.bundle_version_id) if case.bundle_version_id else {}
    if case.bundle_version_id:
        progress_steps = progress.bundle_strip(case, list(members.items()), detail.work, detail.events)
    else:
        progress_steps = progress.strip(case, case.item_version.steps)
    open_steps = [
        {
            "name": w.name,
            "item": members.get(w.process_key, ""),
            "department": departments.get(w.department_id, ""),
        }
        for w in detail.open_work
    ]
    procedure = next((p for p in detail.procedures if p.ended_at is None), None)
    receipt = request.session.pop(RECEIPT, None) == case.number
    rectification = None
    if detail.rating is not None and detail.rating.is_bad:
        rectification = "done" if detail.rating.rectified_at else "open"
    return render(
        request,
        "cases/portal/case.html",
        {
            "detail": detail,
            "case": case,
            "mine": mine,
            "badge": STATUS_BADGE.get(case.status, "badge"),
            "colour": detail.colour,
            "promised": _last_day(services.current_due(case)),
            "expected_day": _expected_day(case.limit_days) if case.accepted_at is None else None,
            "receipt": receipt,
            "auto_approved": (case.decision_basis or {}).get("kind") == "rule",
            "supplement": supplement if case.status == CaseStatus.SUPPLEMENT else None,
            "supplement_form": supplement_form if case.status == CaseStatus.SUPPLEMENT and mine else None,
            # 容缺 materials are due; ones not provided at application may be added before acceptance.
            "gap_forms": [f for f in supply_forms if f.outstanding.status == MaterialStatus.MISSING],
            "pending_forms": [f for f in supply_forms if f.outstanding.status == MaterialStatus.PENDING],
            "pending_required": sum(
                1
                for f in supply_forms
                if f.outstanding.status == MaterialStatus.PENDING and f.outstanding.required
            ),
            "reopen_pending": supply_form is not None,
            "procedure": procedure,
            "can_withdraw": mine and case.status in WITHDRAWABLE,
            "has_document": case.status in WITH_DOCUMENT,
            **_results(actor, case, mine),
            "rate_form": rate_form if can_rate else None,
            "rating": detail.rating,
            "rectification": rectification,
            "timeline": timeline(detail.events, for_applicant=mine),
            "diagram": diagram,
            "progress_steps": progress_steps,
            "open_steps": open_steps,
        },
    )


@require_GET
@domain_errors
def my_case(request, number):
    return _case_page(request, _actor(request), number)


@require_GET
@domain_errors
def my_case_bpmn(request, number):
    """The process the case runs, for whoever may see the case (the staff XML endpoint is for
    catalogue managers). An attachment, so the browser never renders it as a page of this site."""
    detail = services.case_detail(_actor(request), number)
    if detail.process is None:
        return render(request, "web/error.html", {"status": 404}, status=404)
    response = HttpResponse(detail.process.bpmn_xml, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{detail.case.number}.bpmn")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@domain_errors
def respond_supplement(request, number):
    actor = _actor(request)
    detail = services.case_detail(actor, number)
    supplement = _open_supplement(detail)
    if supplement is None or detail.case.status != CaseStatus.SUPPLEMENT:
        messages.error(request, _("No supplement is requested for this case."))
        return redirect("cases:my_case", number=number)
    form = SupplementForm(request.POST, request.FILES, items=supplement.items)
    form.is_valid()
    files = {
        material: _read(request.FILES[name])
        for material, name in form.material_names.items()
        if name in request.FILES
    }
    try:
        services.respond_supplement(actor, number, files=files, note=request.POST.get("note", ""))
    except InvalidInput as exc:
        form.add_service_errors(exc)
        return _case_page(request, actor, number, supplement_form=form)
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Thank you: the supplement is sent and handling continues."))
    return redirect("cases:my_case", number=number)


@require_POST
@domain_errors
def supply_material(request, number):
    actor = _actor(request)
    detail = services.case_detail(actor, number)
    name = request.POST.get("material", "")
    material = next((m for m in _outstanding(detail) if m.name == name), None)
    if material is None:
        messages.error(request, _("This material is not outstanding."))
        return redirect("cases:my_case", number=number)
    form = SupplyForm(request.POST, request.FILES, material=material)
    form.is_valid()
    upload = request.FILES.get("file")
    try:
        services.supply_material(actor, number, material=name, upload=_read(upload) if upload else None)
    except InvalidInput as exc:
        form.add_service_errors(exc)
        return _case_page(request, actor, number, supply_form=form)
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("%(m)s is uploaded.") % {"m": name})
    return redirect("cases:my_case", number=number)


@require_http_methods(["GET", "POST"])
@domain_errors
def withdraw(request, number):
    """撤回 asks once more before it is done: a withdrawn application cannot be taken up again."""
    actor = _actor(request)
    if request.method == "POST":
        try:
            services.withdraw(actor, number, reason=request.POST.get("reason", "")[:200])
        except Conflict as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("The application is withdrawn."))
        return redirect("cases:my_case", number=number)
    detail = services.case_detail(actor, number)
    if not detail.is_applicant:
        raise NotPermitted(_("Only the applicant can withdraw an application."))
    if detail.case.status not in WITHDRAWABLE:
        messages.error(request, _("A decided case can no longer be withdrawn."))
        return redirect("cases:my_case", number=number)
    return render(request, "cases/portal/withdraw.html", {"case": detail.case})


@require_POST
@domain_errors
def rate(request, number):
    actor = _actor(request)
    form = RateForm(request.POST)
    form.is_valid()
    try:
        score = int(request.POST.get("score", ""))
    except ValueError:
        score = 0
    try:
        services.rate(actor, number, score=score, comment=request.POST.get("comment", ""))
    except InvalidInput as exc:
        form.add_service_errors(exc)
        return _case_page(request, actor, number, rate_form=form)
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Thank you for your rating."))
    return redirect("cases:my_case", number=number)


# --- downloads (the citizen's and staff's alike: the services check who may see the case) --------------


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@domain_errors
def material_download(request, number, material_id):
    filename, content_type, content = services.material_file(_actor(request), number, material_id)
    return _attachment(content, content_type, filename)


@require_GET
@domain_errors
def document_download(request, number):
    actor = _actor(request)
    try:
        filename, content = services.document_pdf(actor, number)
    except Conflict as exc:
        messages.error(request, str(exc.message))
        return redirect("cases:my_case", number=number)
    return _attachment(content, "application/pdf", filename)


class ProgressLookupForm(forms.Form):
    number = forms.CharField(
        label=gettext_lazy("Case number (办件编号)"),
        max_length=40,
        help_text=gettext_lazy("Printed on the acceptance receipt and sent to you by message."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    id_tail = forms.CharField(
        label=gettext_lazy("Last 6 characters of the applicant's ID number or credit code"),
        max_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": "6", "spellcheck": "false"}),
    )


@require_http_methods(["GET", "POST"])
def progress_lookup(request):
    """办件进度查询 without logging in (POST, so the identifier tail stays out of links and logs)."""
    form = ProgressLookupForm(request.POST or None)
    found = None
    if request.method == "POST" and form.is_valid():
        try:
            found = services.public_progress(form.cleaned_data["number"], form.cleaned_data["id_tail"])
        except InvalidInput as exc:
            apply_errors(form, exc)
        except NotFound as exc:
            form.add_error(None, str(exc.message))
    return render(
        request,
        "cases/portal/progress_lookup.html",
        {"form": form, "found": found, "promised": _last_day(found.promised) if found else None},
        status=200,
    )


urlpatterns = [
    path("services/items/<str:code>/apply", apply_item, name="apply_item"),
    path("services/bundles/<str:code>/apply", apply_bundle, name="apply_bundle"),
    path("my/drafts/<int:draft_id>/discard", discard_draft, name="discard_draft"),
    path("progress/", progress_lookup, name="progress_lookup"),
    path("my/cases/", my_cases, name="my_cases"),
    path("my/cases/<str:number>/", my_case, name="my_case"),
    path("my/cases/<str:number>/process.bpmn", my_case_bpmn, name="my_case_bpmn"),
    path("my/cases/<str:number>/supplement", respond_supplement, name="my_case_supplement"),
    path("my/cases/<str:number>/supply", supply_material, name="my_case_supply"),
    path("my/cases/<str:number>/withdraw", withdraw, name="my_case_withdraw"),
    path("my/cases/<str:number>/rate", rate, name="my_case_rate"),
    path("cases/<str:number>/materials/<int:material_id>", material_download, name="material_download"),
    path("cases/<str:number>/document.pdf", document_download, name="document_download"),
]
