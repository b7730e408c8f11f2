"""Case pages: the window console (综合窗口), 前台综合受理 → 后台分类审批 → 统一窗口出件.

The clerk's queues; a case as the window checks it, material by material (paper original checked,
容缺, or 补正), then 受理, one 补正 notice, or 不予受理; 出件 of decided cases; accepting a walk-in
application on the applicant's behalf; and the printable 受理回执 and 补正通知书. Every change is one
call to tongban.cases.services: these views turn forms into calls and service errors into field errors.
"""

import datetime as dt

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from tongban.accounts import roles as perms
from tongban.accounts.forms import ServiceBackedForm
from tongban.catalog import search
from tongban.core import calendar
from tongban.core import events as event_log
from tongban.core.authz import actor_for_request, require
from tongban.core.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from tongban.core.http import domain_errors, query_string
from tongban.core.identifiers import normalize_id_number
from tongban.core.masking import mask_id_number, mask_phone

from .. import services
from ..models import CaseMaterial, CaseStatus, Delivery, MaterialSource, MaterialStatus, Supplement

PER_PAGE = 20

QUEUES = (
    ("submitted", gettext_lazy("To accept")),
    ("supplement", gettext_lazy("Waiting for 补正")),
    ("gaps", gettext_lazy("容缺 to follow")),
    ("decided", gettext_lazy("To issue")),
)

# What a clerk does with a material not yet provided, and with one that was uploaded.
PAPER, MISSING, SUPPLEMENT, OK = "paper", "missing", "supplement", "ok"
UPLOAD, NONE = "upload", "none"
CHOICE_LABELS = {
    PAPER: gettext_lazy("Paper original checked"),
    MISSING: gettext_lazy("容缺 (supply later)"),
    SUPPLEMENT: gettext_lazy("补正"),
    OK: gettext_lazy("Upload checked"),
    UPLOAD: gettext_lazy("Upload a scan"),
    NONE: gettext_lazy("Not provided"),
}


# --- shared ---------------------------------------------------------------------------------------


def _clerk(request):
    """The window clerk making the request; anyone else is turned away (403), before anything is read."""
    actor = actor_for_request(request)
    if not actor.is_authenticated:
        raise NotAuthenticated()
    require(actor, perms.CASE_ACCEPT)
    return actor


def _window(actor):
    staff = getattr(actor, "staff", None)
    return staff.window if staff is not None else None


def _window_code(actor) -> str:
    """The clerk's own window as services.accept names windows: "<centre code>/<window number>"."""
    window = _window(actor)
    return f"{window.centre.code}/{window.number}" if window else ""


def _last_day(instant) -> dt.date | None:
    """A limit runs out at midnight after its last working day; people are told that day."""
    if instant is None:
        return None
    return timezone.localtime(instant - dt.timedelta(microseconds=1)).date()


def _put_errors(form: forms.Form, exc: InvalidInput, rename=None) -> None:
    """Each problem a service reported goes under its field; what has no field goes to the top."""
    for name, problems in exc.fields.items():
        target = rename(name) if rename else name
        if target not in form.fields:
            target = None
        for problem in problems:
            form.add_error(target, str(problem.message))


def _qr_svg(text: str, title: str) -> str:
    """A QR code as inline SVG (no script, no external image), drawn here on the server."""
    svg = segno.make(text, error="m").svg_inline(scale=1, border=2, omitsize=True, title=title)
    return mark_safe(svg)  # noqa: S308  (segno's own markup; the title is escaped by segno)


def _form_values(application, data: dict) -> list[tuple[str, str]]:
    """The form as the clerk reads it: labels, and ID and phone numbers masked (need-to-know)."""
    rows = []
    for spec in application.fields:
        key = spec["key"]
        if key not in data:
            continue
        value = data[key]
        kind = spec.get("type", "text")
        if kind == "id_number":
            value = mask_id_number(str(value))
        elif kind == "phone":
            value = mask_phone(str(value))
        elif kind == "checkbox":
            value = _("yes") if value else _("no")
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        rows.append((spec["label"], value))
    return rows


# --- forms ----------------------------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Case number, applicant or enterprise"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )


def _radio(choices, required=False):
    # Nothing is ever chosen for the clerk: a material is verified only by someone picking so.
    return forms.ChoiceField(
        choices=[(c, CHOICE_LABELS[c]) for c in choices],
        required=required,
        widget=forms.RadioSelect,
        label="",
        error_messages={"required": gettext_lazy("Choose what was done with this material.")},
    )


class CheckForm(forms.Form):
    """The window's check of an application: each material paper-checked, 容缺 or 补正, then 受理 or 补正."""

    gap_days = forms.IntegerField(
        label=gettext_lazy("容缺: working days to supply"),
        min_value=1,
        max_value=60,
        required=False,
    )
    extra_material = forms.CharField(
        label=gettext_lazy("Another material to ask for"), max_length=200, required=False
    )
    extra_reason = forms.CharField(label=gettext_lazy("What is needed"), max_length=500, required=False)
    note = forms.CharField(
        label=gettext_lazy("Note on the 补正 notice"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, materials=(), gaps_allowed=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gap_days"].initial = settings.TONGBAN_GAP_DAYS
        self.rows = []
        for m in materials:
            if m.status == MaterialStatus.PENDING:
                choices = [PAPER] + ([MISSING] if gaps_allowed and not m.core else []) + [SUPPLEMENT]
            elif m.status == MaterialStatus.PROVIDED:
                choices = [OK, SUPPLEMENT]
            else:
                continue
            self.fields[f"m_{m.pk}"] = _radio(choices)
            self.fields[f"why_{m.pk}"] = forms.CharField(
                label=gettext_lazy("Reason for the 补正"), max_length=500, required=False
            )
            self.rows.append(m)

    def bound_rows(self):
        return [(m, self[f"m_{m.pk}"], self[f"why_{m.pk}"]) for m in self.rows]

    def choice(self, m) -> str:
        return self.cleaned_data.get(f"m_{m.pk}") or ""


class RefuseForm(ServiceBackedForm):
    mandatory = ("reason",)
    reason = forms.CharField(
        label=gettext_lazy("Reason it is not accepted"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class IssueForm(ServiceBackedForm):
    delivery = forms.ChoiceField(
        label=gettext_lazy("Delivery"),
        choices=Delivery.choices,
        initial=Delivery.WINDOW,
        widget=forms.RadioSelect(attrs={"data-delivery": ""}),
    )
    address = forms.CharField(
        label=gettext_lazy("Postal address"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("Needed when the result is posted."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReceivedForm(forms.Form):
    """The applicant brings what a 补正 notice asked for to the window, and the clerk checks it."""

    paper = forms.MultipleChoiceField(
        label=gettext_lazy("Checked at the window"), widget=forms.CheckboxSelectMultiple, required=False
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=2000, required=False)

    def __init__(self, *args, requested=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paper"].choices = [(n, n) for n in requested]
        self.fields["paper"].initial = list(requested)


class SupplyForm(forms.Form):
    material = forms.CharField(max_length=200)


# --- the queue ------------------------------------------------------------------------------------


@domain_errors
def queue(request):
    actor = _clerk(request)
    tab = request.GET.get("tab", "submitted")
    if tab not in dict(QUEUES):
        tab = "submitted"
    form = QueueFilterForm(request.GET or None)
    q = form.cleaned_data.get("q", "") if form.is_valid() else ""
    cases = services.window_queue(actor, status=tab, q=q)
    page = Paginator(cases, PER_PAGE).get_page(request.GET.get("page"))
    rows = _queue_rows(tab, list(page))
    counts = {key: services.window_queue(actor, status=key).count() for key, _label in QUEUES}
    return render(
        request,
        "cases/window/queue.html",
        {
            "tab": tab,
            "tabs": [(key, label, counts[key]) for key, label in QUEUES],
            "form": form,
            "page": page,
            "rows": rows,
            "query": query_string(request),
            "q": q,
            "today": timezone.localdate(),
            "window": _window(actor),
        },
    )


def _queue_rows(tab: str, cases: list) -> list[dict]:
    """What each row shows beyond the case: the 补正 notice deadline, the 秒批 checks that failed,
    the latest 补正 notice, the earliest 容缺 due date."""
    cal = calendar.get_calendar()
    today = timezone.localdate()
    ids = [c.pk for c in cases]
    latest_notice, gap_due = {}, {}
    if tab == "supplement":
        for case_id, requested in Supplement.objects.filter(case_id__in=ids).values_list(
            "case_id", "requested_at"
        ):
            latest_notice[case_id] = max(requested, latest_notice.get(case_id, requested))
    if tab == "gaps":
        for case_id, name, due in CaseMaterial.objects.filter(
            case_id__in=ids, status=MaterialStatus.MISSING
        ).values_list("case_id", "name", "due_at"):
            gap_due.setdefault(case_id, []).append((name, _last_day(due)))
    rows = []
    for case in cases:
        row = {"case": case, "failed": []}
        if tab == "submitted":
            notice_by = cal.add_working_days(
                timezone.localtime(case.submitted_at), settings.TONGBAN_SUPPLEMENT_NOTICE_DAYS
            )
            row.update(notice_by=notice_by, notice_late=notice_by < today)
            if (case.decision_basis or {}).get("kind") == "rules_failed":
                row["failed"] = case.decision_basis.get("failed") or []
                row["rules_failed"] = True
        elif tab == "supplement":
            row["notice_at"] = latest_notice.get(case.pk)
        elif tab == "gaps":
            row["gaps"] = sorted(gap_due.get(case.pk, []), key=lambda g: (g[1] or dt.date.max, g[0]))
            row["gap_late"] = any(due and due < today for _name, due in row["gaps"])
        rows.append(row)
    return rows


# --- a case at the window -------------------------------------------------------------------------


def _case_context(actor, number: str, **bound) -> dict:
    detail = services.case_detail(actor, number)
    case = detail.case
    application = services.application_form(case=case)
    not_yet_accepted = case.accepted_at is None
    context = {
        "detail": detail,
        "case": case,
        "application": application,
        "form_values": _form_values(application, case.data or {}),
        "failed": (case.decision_basis or {}).get("failed") or []
        if (case.decision_basis or {}).get("kind") == "rules_failed"
        else [],
        "materials": [{"m": m, "due_day": _last_day(m.due_at)} for m in detail.materials],
        "window": _window(actor),
        "due_day": _last_day(services.current_due(case)),
        "paused_days": round(case.paused_days, 1),
        "can_check": case.status == CaseStatus.SUBMITTED,
        "can_refuse": case.status in (CaseStatus.SUBMITTED, CaseStatus.SUPPLEMENT) and not_yet_accepted,
        "can_receive": case.status == CaseStatus.SUPPLEMENT,
        "can_issue": case.status == CaseStatus.DECIDED,
        "notices": list(enumerate(reversed(detail.supplements), start=1)),
        "events": [{"e": e, "label": _window_label(e)} for e in detail.events],
    }
    if context["can_check"]:
        context["check_form"] = bound.get("check_form") or CheckForm(
            materials=detail.materials, gaps_allowed=application.accepts_with_gaps
        )
        context["refuse_form"] = bound.get("refuse_form") or RefuseForm()
        context["notice_by"] = calendar.get_calendar().add_working_days(
            timezone.localtime(case.submitted_at), settings.TONGBAN_SUPPLEMENT_NOTICE_DAYS
        )
    elif context["can_refuse"]:
        context["refuse_form"] = bound.get("refuse_form") or RefuseForm()
    if context["can_receive"]:
        requested = [m.name for m in detail.materials if m.status == MaterialStatus.REQUESTED]
        context["received_form"] = bound.get("received_form") or ReceivedForm(requested=requested)
    if context["can_issue"]:
        context["issue_form"] = bound.get("issue_form") or IssueForm()
    context["gaps"] = [row for row in context["materials"] if row["m"].status == MaterialStatus.MISSING]
    return context


def _window_label(event) -> str:
    """The window's own wording, else the staff label, else the step's name: never a raw code."""
    return (
        event_log.own_label(event.activity, "window")
        or event_log.own_label(event.activity)
        or _step_label(event)
    )


def _step_label(event) -> str:
    if event.activity.startswith("work:"):
        name = event.activity[5:]
        return (
            _("%(step)s started") % {"step": name}
            if event.lifecycle == "start"
            else _("%(step)s done") % {"step": name}
        )
    return event.activity


@domain_errors
def case_page(request, number):
    actor = _clerk(request)
    return render(request, "cases/window/case.html", _case_context(actor, number))


def _again(request, actor, number, **bound):
    """The case page again, with the form that failed and its errors beside the fields."""
    return render(request, "cases/window/case.html", _case_context(actor, number, **bound))


@require_POST
@domain_errors
def case_check(request, number):
    """受理 or 补正 from the material check: one form, two buttons."""
    actor = _clerk(request)
    case = services.access_case(actor, number)
    action = request.POST.get("action")
    form = CheckForm(
        request.POST,
        materials=list(case.materials.all()),
        gaps_allowed=services.application_form(case=case).accepts_with_gaps,
    )
    if action not in ("accept", "supplement") or not form.is_valid():
        return _again(request, actor, number, check_form=form)
    try:
        if action == "accept":
            return _accept(request, actor, case, form)
        return _supplement(request, actor, case, form)
    except Conflict as exc:
        messages.error(request, str(exc.message))
        return redirect("cases:window_case", number=number)


def _accept(request, actor, case, form):
    missing, paper, checked_uploads, unmarked, marked = [], [], [], [], []
    for m in form.rows:
        choice = form.choice(m)
        if choice == MISSING:
            missing.append(m.name)
        elif choice == PAPER:
            paper.append(m.name)
        elif choice == OK:
            if m.source == MaterialSource.UPLOAD:
                checked_uploads.append(m.name)
        elif choice == SUPPLEMENT:
            marked.append(m)
        else:
            unmarked.append(m)
    for m in unmarked:
        form.add_error(
            f"m_{m.pk}",
            _("Choose: paper original checked, 容缺, or 补正.")
            if m.status == MaterialStatus.PENDING
            else _("Choose: upload checked, or 补正."),
        )
    if marked or form.cleaned_data.get("extra_material"):
        form.add_error(
            None, _("Some materials are marked for 补正: send the 补正 notice instead of accepting.")
        )
    if form.errors:
        return _again(request, actor, case.number, check_form=form)
    gap_days = form.cleaned_data.get("gap_days")
    try:
        services.accept(
            actor,
            case.number,
            missing=missing,
            paper=paper,
            gap_days=gap_days if missing else None,
            window_code=_window_code(actor),
            checked_uploads=checked_uploads,
        )
    except InvalidInput as exc:
        _put_errors(form, exc, lambda name: "gap_days" if name == "gap_days" else None)
        return _again(request, actor, case.number, check_form=form)
    messages.success(
        request, _("Case %(n)s is accepted. Print the receipt for the applicant.") % {"n": case.number}
    )
    return redirect("cases:window_receipt", number=case.number)


def _supplement(request, actor, case, form):
    items, fields = [], []
    for m in form.rows:
        if form.choice(m) == SUPPLEMENT:
            items.append({"material": m.name, "reason": form.cleaned_data.get(f"why_{m.pk}", "")})
            fields.append((f"m_{m.pk}", f"why_{m.pk}"))
    extra, extra_reason = (
        form.cleaned_data.get("extra_material", ""),
        form.cleaned_data.get("extra_reason", ""),
    )
    if extra or extra_reason:
        items.append({"material": extra, "reason": extra_reason})
        fields.append(("extra_material", "extra_reason"))

    def rename(name):
        if name.startswith("items[") and "]." in name:
            index, _sep, part = name[6:].partition("].")
            if index.isdigit() and int(index) < len(fields):
                return fields[int(index)][0 if part == "material" else 1]
        return name if name == "note" else None

    try:
        services.request_supplement(actor, case.number, items=items, note=form.cleaned_data.get("note", ""))
    except InvalidInput as exc:
        _put_errors(form, exc, rename)
        return _again(request, actor, case.number, check_form=form)
    count = services.access_case(actor, case.number).supplements.count()
    messages.success(request, _("The 补正 notice is sent to the applicant. Print it for them."))
    return redirect("cases:window_notice", number=case.number, seq=count)


@require_POST
@domain_errors
def case_refuse(request, number):
    actor = _clerk(request)
    form = RefuseForm(request.POST)
    if form.is_valid():
        try:
            services.refuse(actor, number, reason=form.cleaned_data["reason"])
        except InvalidInput as exc:
            _put_errors(form, exc)
        except Conflict as exc:
            messages.error(request, str(exc.message))
            return redirect("cases:window_case", number=number)
        else:
            messages.success(request, _("The application is not accepted; the applicant is told why."))
            return redirect("cases:window_case", number=number)
    return _again(request, actor, number, refuse_form=form)


@require_POST
@domain_errors
def case_received(request, number):
    actor = _clerk(request)
    case = services.access_case(actor, number)
    requested = list(case.materials.filter(status=MaterialStatus.REQUESTED).values_list("name", flat=True))
    form = ReceivedForm(request.POST, requested=requested)
    if form.is_valid():
        try:
            services.respond_supplement(
                actor, number, paper=form.cleaned_data["paper"], note=form.cleaned_data["note"]
            )
        except InvalidInput as exc:
            _put_errors(form, exc, lambda name: "note" if name == "note" else "paper")
        except Conflict as exc:
            messages.error(request, str(exc.message))
            return redirect("cases:window_case", number=number)
        else:
            messages.success(request, _("The 补正 materials are recorded; the case goes on."))
            return redirect("cases:window_case", number=number)
    return _again(request, actor, number, received_form=form)


@require_POST
@domain_errors
def case_supply(request, number):
    """A 容缺 material is brought to the window and checked on paper."""
    actor = _clerk(request)
    form = SupplyForm(request.POST)
    if form.is_valid():
        try:
            services.supply_material(actor, number, material=form.cleaned_data["material"], paper=True)
        except (InvalidInput, Conflict) as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request, _("%(m)s is recorded as provided.") % {"m": form.cleaned_data["material"]}
            )
    return redirect("cases:window_case", number=number)


@require_POST
@domain_errors
def case_issue(request, number):
    actor = _clerk(request)
    form = IssueForm(request.POST)
    if form.is_valid():
        try:
            services.issue(
                actor, number, delivery=form.cleaned_data["delivery"], address=form.cleaned_data["address"]
            )
        except InvalidInput as exc:
            _put_errors(form, exc)
        except Conflict as exc:
            messages.error(request, str(exc.message))
            return redirect("cases:window_case", number=number)
        else:
            messages.success(request, _("Case %(n)s is issued (办结).") % {"n": number})
            return redirect("cases:window_case", number=number)
    return _again(request, actor, number, issue_form=form)


@domain_errors
def material_download(request, number, material_id):
    actor = _clerk(request)
    file_name, content_type, content = services.material_file(actor, number, material_id)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(file_name)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


# --- printed papers: 受理回执 and 补正通知书 -------------------------------------------------------------


def _progress_qr(request, case) -> str:
    url = request.build_absolute_uri(f"/my/cases/{case.number}/")
    return _qr_svg(url, _("Check the progress of case %(n)s") % {"n": case.number})


@domain_errors
def receipt(request, number):
    actor = _clerk(request)
    detail = services.case_detail(actor, number)
    case = detail.case
    if case.accepted_at is None:
        raise NotFound()
    received = [m for m in detail.materials if m.status == MaterialStatus.PROVIDED]
    gaps = [
        {"m": m, "due_day": _last_day(m.due_at)}
        for m in detail.materials
        if m.status == MaterialStatus.MISSING
    ]
    return render(
        request,
        "cases/window/receipt.html",
        {
            "case": case,
            "detail": detail,
            "received": received,
            "gaps": gaps,
            "due_day": _last_day(case.due_at),
            "paused_days": round(case.paused_days, 1),
            "instant": case.limit_days == 0,
            "qr": _progress_qr(request, case),
            "printed_at": timezone.now(),
            "sources": dict(MaterialSource.choices),
        },
    )


@domain_errors
def notice(request, number, seq):
    actor = _clerk(request)
    detail = services.case_detail(actor, number)
    notices = list(reversed(detail.supplements))  # oldest first: notice 1, 2, …
    if not 1 <= seq <= len(notices):
        raise NotFound()
    supplement = notices[seq - 1]
    return render(
        request,
        "cases/window/notice.html",
        {
            "case": detail.case,
            "supplement": supplement,
            "seq": seq,
            "qr": _progress_qr(request, detail.case),
            "issuer": _issuer(detail.case, supplement.requested_by),
            "accepted": detail.case.accepted_at is not None
            and detail.case.accepted_at <= supplement.requested_at,
        },
    )


def _issuer(case, user) -> str:
    """Who a notice comes from: the service centre of the window that sent it, else the case's department."""
    staff = getattr(user, "staff", None)
    window = getattr(staff, "window", None) or case.window
    return window.centre.name if window else case.department.name


# --- accepting on the applicant's behalf ----------------------------------------------------------


class ApplyForm(ServiceBackedForm):
    """一窗受理 on behalf: who applies, the item's own form, and each material as the window received it."""

    mandatory = ("id_number",)
    id_number = forms.CharField(
        label=gettext_lazy("ID number"),
        max_length=24,
        help_text=gettext_lazy("From the ID card presented. A new applicant is registered."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=50,
        required=False,
        help_text=gettext_lazy("Needed for a new applicant."),
    )
    phone = forms.CharField(
        label=gettext_lazy("Mobile number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    enterprise_uscc = forms.CharField(
        label=gettext_lazy("On behalf of an enterprise (USCC)"),
        max_length=24,
        required=False,
        help_text=gettext_lazy("Leave empty when a person applies for themself."),
    )
    gap_days = forms.IntegerField(
        label=gettext_lazy("容缺: working days to supply"), min_value=1, max_value=60, required=False
    )
    commitment = forms.BooleanField(
        label=gettext_lazy("The applicant signs the 告知承诺 (approved on acceptance)"), required=False
    )
    reuse_consent = forms.BooleanField(
        label=gettext_lazy(
            "The applicant agrees that their e-licences and shared data stand in for materials (免提交)"
        ),
        required=False,
    )

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        self.application = application
        self.fields["gap_days"].initial = settings.TONGBAN_GAP_DAYS
        if not application.commitment_allowed:
            del self.fields["commitment"]
        if not any(m.get("exempt") for m in application.materials):
            del self.fields["reuse_consent"]
        self.data_fields = []
        for spec in application.fields:
            name = f"f_{spec['key']}"
            self.fields[name] = _data_field(spec)
            self.data_fields.append(name)
        self.material_rows = []
        for i, m in enumerate(application.materials):
            if m["required"]:
                choices = [PAPER, UPLOAD] + (
                    [MISSING] if application.accepts_with_gaps and not m["core"] else []
                )
            else:
                choices = [NONE, UPLOAD]
            self.fields[f"m_{i}"] = _radio(choices, required=m["required"])
            if not m["required"]:
                self.fields[f"m_{i}"].initial = NONE  # "not provided" vouches for nothing
            self.fields[f"file_{i}"] = forms.FileField(label=gettext_lazy("Scan"), required=False)
            self.material_rows.append(m)

    def bound_materials(self):
        return [(m, self[f"m_{i}"], self[f"file_{i}"]) for i, m in enumerate(self.material_rows)]

    def bound_data(self):
        return [self[name] for name in self.data_fields]

    def form_data(self) -> dict:
        data = {}
        for name in self.data_fields:
            value = self.cleaned_data.get(name)
            if value not in (None, "", False):
                data[name[2:]] = value
        return data


def _data_field(spec: dict) -> forms.Field:
    """A Django field for one field of an item's form; the service checks the values (all at once)."""
    kind, label = spec.get("type", "text"), spec["label"]
    if kind == "select":
        field = forms.ChoiceField(
            label=label, required=False, choices=[("", "—")] + [(o, o) for o in spec.get("options", [])]
        )
    elif kind == "checkbox":
        field = forms.BooleanField(label=label, required=False)
    else:
        widgets = {
            "textarea": forms.Textarea(attrs={"rows": 3}),
            "number": forms.TextInput(attrs={"inputmode": "decimal"}),
            "date": forms.DateInput(attrs={"type": "date"}),
            "phone": forms.TextInput(attrs={"type": "tel"}),
        }
        field = forms.CharField(
            label=label, required=False, max_length=2000, widget=widgets.get(kind, forms.TextInput())
        )
    if spec.get("required") and kind != "checkbox":
        field.mandatory = True
        field.widget.attrs["aria-required"] = "true"
    return field


@domain_errors
@sensitive_post_parameters("id_number", "phone")
def apply(request):
    actor = _clerk(request)
    item_code, bundle_code = request.GET.get("item", "").strip(), request.GET.get("bundle", "").strip()
    query = request.GET.get("q", "").strip()[:100]
    problem = ""
    if item_code or bundle_code:
        try:
            application = services.application_form(item_code=item_code, bundle_code=bundle_code)
        except NotFound:
            problem = _("No published item or bundle has this code.")
        except InvalidInput as exc:
            problem = "；".join(str(p.message) for ps in exc.fields.values() for p in ps)
        else:
            return _apply_form(request, actor, application)
    return render(
        request,
        "cases/window/apply_choose.html",
        {
            "query": query,
            "hits": search.search(query, 20) if query else [],
            "problem": problem,
            "window": _window(actor),
        },
    )


def _apply_form(request, actor, application):
    form = ApplyForm(request.POST or None, request.FILES or None, application=application)
    if request.method == "POST":
        form.is_valid()
        files = _uploads(form)
        if form.errors:
            # The service is not called with a form known to be wrong; still say everything at once.
            _precheck(form, application)
        else:
            case = _accept_at_window(request, actor, application, form, files)
            if case is not None:
                messages.success(
                    request,
                    _("Case %(n)s is accepted. Print the receipt for the applicant.") % {"n": case.number},
                )
                return redirect("cases:window_receipt", number=case.number)
        if any(form.cleaned_data.get(f"m_{i}") == UPLOAD for i in range(len(form.material_rows))):
            messages.warning(
                request, _("Attach the scans again: a browser does not keep them after an error.")
            )
    return render(
        request,
        "cases/window/apply_form.html",
        {
            "application": application,
            "form": form,
            "window": _window(actor),
            "commitment_text": services.commitment_text() if application.commitment_allowed else "",
        },
    )


def _uploads(form: ApplyForm) -> dict:
    """The scans the clerk attached, for materials marked as uploaded; each one must be there."""
    files = {}
    for i, m in enumerate(form.material_rows):
        if form.cleaned_data.get(f"m_{i}") != UPLOAD:
            continue
        upload = form.cleaned_data.get(f"file_{i}")
        if upload is None:
            form.add_error(f"file_{i}", _("Attach the scan, or choose another option."))
        elif upload.size > settings.TONGBAN_UPLOAD_MAX_BYTES:
            form.add_error(f"file_{i}", _("The file is too large."))
        else:
            files[m["name"]] = (upload.name, upload.read())
    return files


def _data_name(name: str) -> str:
    return f"f_{name[5:]}" if name.startswith("data.") else name


def _precheck(form: ApplyForm, application) -> None:
    """The item's form and the ID number checked on their own, for problems not reported yet."""
    try:
        services.clean_form(application.fields, form.form_data())
    except InvalidInput as exc:
        fresh = {name: ps for name, ps in exc.fields.items() if not form.has_error(_data_name(name))}
        _put_errors(form, InvalidInput(fresh), _data_name)
    _check_id_number(form)


def _check_id_number(form: ApplyForm) -> None:
    if form.has_error("id_number"):
        return
    value = form.cleaned_data.get("id_number", "")
    if not value:
        form.add_error("id_number", _("This field is required."))
        return
    try:
        normalize_id_number(value)
    except ValidationError as problem:
        form.add_error("id_number", problem.messages[0])


def _accept_at_window(request, actor, application, form: ApplyForm, files: dict):
    names = {m["name"]: i for i, m in enumerate(form.material_rows)}
    chosen = [(m["name"], form.cleaned_data.get(f"m_{i}")) for i, m in enumerate(form.material_rows)]
    data = form.cleaned_data
    try:
        return services.accept_at_window(
            actor,
            item_code=application.code if application.kind == "item" else "",
            bundle_code=application.code if application.kind == "bundle" else "",
            id_number=data["id_number"],
            name=data["name"],
            phone=data["phone"],
            data=form.form_data(),
            missing=[name for name, choice in chosen if choice == MISSING],
            paper=[name for name, choice in chosen if choice == PAPER],
            gap_days=data.get("gap_days") if any(c == MISSING for _n, c in chosen) else None,
            window_code=_window_code(actor),
            enterprise_uscc=data["enterprise_uscc"],
            files=files,
            commitment=bool(data.get("commitment")),
            reuse_consent=bool(data.get("reuse_consent")),
        )
    except InvalidInput as exc:

        def rename(name):
            if name.startswith("files."):
                index = names.get(name[6:])
                return f"file_{index}" if index is not None else None
            return _data_name(name)

        _put_errors(form, exc, rename)
        # The item's form is checked before the applicant: say at once if the ID number is wrong too.
        _check_id_number(form)
        return None


urlpatterns = [
    path("window/cases/", queue, name="window_queue"),
    path("window/cases/<str:number>/", case_page, name="window_case"),
    path("window/cases/<str:number>/check", case_check, name="window_check"),
    path("window/cases/<str:number>/refuse", case_refuse, name="window_refuse"),
    path("window/cases/<str:number>/received", case_received, name="window_received"),
    path("window/cases/<str:number>/supply", case_supply, name="window_supply"),
    path("window/cases/<str:number>/issue", case_issue, name="window_issue"),
    path("window/cases/<str:number>/receipt", receipt, name="window_receipt"),
    path("window/cases/<str:number>/notices/<int:seq>", notice, name="window_notice"),
    path("window/cases/<str:number>/materials/<int:material_id>", material_download, name="window_material"),
    path("window/apply", apply, name="window_apply"),
]
