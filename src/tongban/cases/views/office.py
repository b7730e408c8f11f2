"""Case pages: the back office (后台审批).

Reviewers and heads work here: the worklist (待办) with its RYG, item, due-date and kind filters;
the page of one step with the case it belongs to and what may be done with it (办理, 退回, 补正,
转办, 加签, 特别程序, 事后核查, 差评整改); the heads' list of overdue steps with 催办; and the
秒批 rule editor of an auto-approvable item. Every read and change goes through the case and
workflow services, which check who may do what; these views only turn requests into calls and
service errors into messages next to the fields they name.
"""

import copy
import dataclasses
import datetime as dt
import json
import re
import uuid
from functools import partial

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tongban.accounts import services as account_services
from tongban.accounts.models import Department, User, UserKind
from tongban.catalog import services as catalog_services
from tongban.catalog.models import ServiceItem
from tongban.core import calendar, spreadsheet
from tongban.core import events as event_log
from tongban.core.authz import actor_for_request
from tongban.core.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, NotPermitted
from tongban.core.http import apply_errors, domain_errors, query_string, safe_next
from tongban.core.masking import mask_id_number, mask_name, mask_phone
from tongban.workflow import services as workflow
from tongban.workflow.models import WorkItem, WorkKind, WorkStatus
from tongban.workflow.views import diagram_context

from .. import rules, verification
from .. import services as cases
from ..models import CallbackResult, Case, CaseStatus, Decision, PauseReason, ProcedureKind, TableStatus

PER_PAGE = 20
PAGE_SIZES = (20, 50, 100)
EXPORT_ROWS = 2_000  # an export is a working list, not a data dump: a bounded number of rows
HEAD_ROLES = ("section_head", "division_head", "bureau_head", "supervisor")

RYG = {
    "red": _("Red · overdue"),
    "yellow": _("Yellow · due soon"),
    "green": _("Green · on time"),
    "paused": _("Paused · clock stopped"),
}
KINDS = {
    WorkKind.STEP: _("Process step"),
    WorkKind.INSPECTION: _("Follow-up inspection (事后核查)"),
    WorkKind.RECTIFICATION: _("Rectification (差评整改)"),
}
DECISION_LABELS = {
    "approve": _("Agree"),
    "reject": _("Disagree"),
    "pass": _("Inspection passed"),
    "fail": _("Inspection failed"),
    "done": _("Done"),
}


def _actor(request):
    actor = actor_for_request(request)
    if not actor.is_authenticated:
        raise NotAuthenticated()
    return actor


def _staff_actor(request):
    actor = _actor(request)
    if getattr(actor, "staff", None) is None:
        raise NotPermitted()
    return actor


def _due_day(due_at) -> dt.date | None:
    """A deadline is the instant its last working day ends (00:00 of the next day): show that day."""
    if due_at is None:
        return None
    return timezone.localtime(due_at - dt.timedelta(microseconds=1)).date()


def _departments(ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    return {
        pk: short or name
        for pk, short, name in Department.objects.filter(pk__in=ids).values_list("pk", "short_name", "name")
    }


def _names(ids) -> dict[int, str]:
    """Display names of users; citizens' masked, as everywhere in the back office."""
    ids = {i for i in ids if i}
    return {
        pk: mask_name(name) if kind == UserKind.CITIZEN else name
        for pk, name, kind in User.objects.filter(pk__in=ids).values_list("pk", "display_name", "kind")
    }


@dataclasses.dataclass
class _Page:
    """Enough of a Paginator page for web/_pager.html, for lists a service pages itself."""

    number: int
    total: int
    per_page: int
    more: bool = False  # there are more than `total` (a capped count): shown as "1,000+"

    @property
    def paginator(self):
        return self

    @property
    def count(self) -> int:
        return self.total

    @property
    def num_pages(self) -> int:
        return max(1, -(-(self.total + self.more) // self.per_page))

    def has_previous(self) -> bool:
        return self.number > 1

    def has_next(self) -> bool:
        return self.number < self.num_pages

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1

    def __bool__(self) -> bool:
        return True


def _page_number(value) -> int:
    return int(value) if (value or "").isdigit() and 0 < int(value) <= 10_000 else 1


# --- the worklist ------------------------------------------------------------------------------------


class WorklistFilterForm(forms.Form):
    colour = forms.ChoiceField(
        label=_("Status light"),
        required=False,
        choices=[
            ("", _("All")),
            ("red", _("Red (overdue)")),
            ("yellow", _("Yellow (due soon)")),
            ("green", _("Green (on time)")),
            ("paused", _("Paused")),
        ],
        widget=forms.Select(attrs={"data-autosubmit": ""}),
    )
    item = forms.CharField(
        label=_("Item code"),
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"type": "search", "list": "worklist-items", "autocomplete": "off"}),
    )
    due_before = forms.DateField(
        label=_("Due by"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    kind = forms.ChoiceField(
        label=_("Kind of work"),
        required=False,
        choices=[("", _("All")), *KINDS.items()],
        widget=forms.Select(attrs={"data-autosubmit": ""}),
    )
    mine = forms.BooleanField(
        label=_("Only mine"), required=False, widget=forms.CheckboxInput(attrs={"data-autosubmit": ""})
    )
    size = forms.TypedChoiceField(
        label=_("Rows per page"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[(n, n) for n in PAGE_SIZES],
        widget=forms.Select(attrs={"data-autosubmit": ""}),
    )


def _item_choices(actor) -> list[tuple[str, str]]:
    """Codes of the items of the departments the actor works in, for the item filter's suggestions."""
    paths = [g.path for g in getattr(actor, "grants", ())]
    if not paths:
        return []
    query = ServiceItem.objects.none()
    for p in paths:
        query = query | ServiceItem.objects.filter(department__path__startswith=p)
    return list(query.exclude(current=None).order_by("code").values_list("code", "current__name")[:300])


def _end_of_day(day: dt.date | None) -> dt.datetime | None:
    """The first instant after `day` (local time): a filter "until 10 Nov" keeps all of 10 Nov."""
    if day is None:
        return None
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=timezone.get_current_timezone())


def _start_of_day(day: dt.date | None) -> dt.datetime | None:
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time(0), tzinfo=timezone.get_current_timezone())


def _worklist_filters(data: dict) -> dict:
    due = data.get("due_before")
    return {
        "colour": data.get("colour") or None,
        "item_code": (data.get("item") or "").strip(),
        # "Due by 10 Nov" keeps steps whose last day is 10 Nov: their deadline is 11 Nov 00:00.
        "due_before": _end_of_day(due) + dt.timedelta(seconds=1) if due else None,
        "kind": data.get("kind") or None,
        "mine_only": bool(data.get("mine")),
    }


def _list_or_results(request, page_template: str, results_template: str, context: dict):
    """The whole page, or only its results when htmx asks for them after a filter changed."""
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        return render(request, results_template, context)
    return render(request, page_template, context)


def _filtered_page(request, form_class, filters, lister):
    """A staff list as its filter form asks: (form, rows, total, page number, rows per page). A bad
    filter is named on the form and the list applies the good ones; what the service refuses is
    named too, with an empty list."""
    form = form_class(request.GET or None)
    form.is_valid()
    data = getattr(form, "cleaned_data", {}) or {}
    number = _page_number(request.GET.get("page"))
    per_page = data.get("size") or PER_PAGE
    try:
        rows, total = lister(**filters(data), page=number, per_page=per_page)
    except InvalidInput as exc:
        apply_errors(form, exc)
        rows, total = [], 0
    return form, rows, total, number, per_page


@require_GET
@domain_errors
def worklist(request):
    actor = _actor(request)
    listed = _filtered_page(request, WorklistFilterForm, _worklist_filters, partial(cases.worklist, actor))
    form, rows, total, number, per_page = listed
    departments = _departments(r.work.department_id for r in rows)
    user_id = actor.user.pk
    lines = [
        {
            "work": r.work,
            "case": r.case,
            "colour": r.colour,
            "colour_label": RYG.get(r.colour, ""),
            "kind_label": KINDS.get(r.work.kind, r.work.kind),
            "department": departments.get(r.work.department_id, ""),
            "due_day": _due_day(r.work.due_at),
            "mine": r.work.assignee_id == user_id,
            "returned": r.returned,
        }
        for r in rows
    ]
    context = {
        "form": form,
        "lines": lines,
        "page": _Page(
            number, min(total, cases.WORKLIST_COUNT_CAP), per_page, more=total > cases.WORKLIST_COUNT_CAP
        ),
        "query": query_string(request),
        "items": _item_choices(actor),
        "is_head": any(g.role in HEAD_ROLES for g in getattr(actor, "grants", ())),
    }
    return _list_or_results(
        request, "cases/office/worklist.html", "cases/office/_worklist_results.html", context
    )


@require_POST
@domain_errors
def claim_selected(request):
    """批量领取 from the worklist: the ticked steps; the list says how many were taken."""
    actor = _actor(request)
    ids = []
    for value in request.POST.getlist("work")[: cases.BATCH_CLAIM_LIMIT + 1]:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    try:
        claimed, missed = cases.claim_many(actor, ids)
    except InvalidInput as exc:
        for problems in exc.fields.values():
            for problem in problems:
                messages.error(request, str(problem.message))
    else:
        if claimed:
            messages.success(
                request,
                ngettext("You have claimed %(n)d step.", "You have claimed %(n)d steps.", len(claimed))
                % {"n": len(claimed)},
            )
        if missed:
            messages.warning(
                request,
                ngettext(
                    "%(n)d step was taken by someone else or is not yours to take.",
                    "%(n)d steps were taken by someone else or are not yours to take.",
                    len(missed),
                )
                % {"n": len(missed)},
            )
    return redirect(safe_next(request, reverse("cases:worklist")))


def _xlsx(body: bytes, stem: str) -> HttpResponse:
    response = HttpResponse(body, content_type=spreadsheet.XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{stem}-{timezone.localdate():%Y%m%d}.xlsx"'
    response["Cache-Control"] = "private, no-store"
    return response


def _export_rows(request, form_class, list_url: str, export, filters, title: str, columns, cells):
    """The XLSX bytes of a list as filtered on its page: the case columns every list shares, then
    its own; or, for bad filters, the redirect back to the page, where each is named."""
    form = form_class(request.GET or None)
    if request.GET and not form.is_valid():
        return redirect(f"{reverse(list_url)}?{request.GET.urlencode()}")
    data = getattr(form, "cleaned_data", {}) or {}
    rows = export(limit=EXPORT_ROWS, **filters(data))
    departments = _departments(r.work.department_id for r in rows)
    header = [gettext("Case number"), gettext("Item / case"), gettext("Step"), gettext("Applicant")]
    body = spreadsheet.table_workbook(
        title,
        [*header, gettext("Department"), *columns],
        (
            [
                r.case.get("number", ""),
                r.case.get("title", ""),
                r.work.name,
                r.case.get("applicant", ""),
                departments.get(r.work.department_id, ""),
                *cells(r),
            ]
            for r in rows
        ),
    )
    return body


@require_GET
@domain_errors
def worklist_export(request):
    """待办 as filtered on the page, as XLSX (up to EXPORT_ROWS rows)."""
    actor = _actor(request)
    body = _export_rows(
        request,
        WorklistFilterForm,
        "cases:worklist",
        lambda **kw: cases.export_worklist(actor, **kw),
        _worklist_filters,
        gettext("Worklist"),
        [gettext("Due"), gettext("Status light"), gettext("Status")],
        lambda r: [
            _due_day(r.work.due_at),
            str(RYG.get(r.colour, "")),
            str(WorkStatus(r.work.status).label),
        ],
    )
    return body if isinstance(body, HttpResponse) else _xlsx(body, "worklist")


# --- 已办: what I have handled ---------------------------------------------------------------------------

DONE_DECISIONS = {
    "approve": _("Agreed"),
    "reject": _("Disagreed"),
    "returned": _("Returned (退回)"),
    "pass": _("Inspection passed"),
    "fail": _("Inspection failed"),
    "done": _("Done"),
}


_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DoneFilterForm(forms.Form):
    item = forms.CharField(
        label=_("Item code"),
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"type": "search", "list": "worklist-items", "autocomplete": "off"}),
    )
    decision = forms.ChoiceField(
        label=_("Decision"),
        required=False,
        choices=[("", _("All")), *DONE_DECISIONS.items()],
        widget=forms.Select(attrs={"data-autosubmit": ""}),
    )
    since = forms.DateField(
        label=_("Handled from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    until = forms.DateField(
        label=_("Handled until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    size = forms.TypedChoiceField(
        label=_("Rows per page"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[(n, n) for n in PAGE_SIZES],
        widget=forms.Select(attrs={"data-autosubmit": ""}),
    )


def _done_filters(data: dict) -> dict:
    return {
        "item_code": (data.get("item") or "").strip(),
        "decision": data.get("decision") or "",
        "since": _start_of_day(data.get("since")),
        "until": _end_of_day(data.get("until")),
    }


CASE_STATUS_LABELS = dict(CaseStatus.choices)


def _done_outcome(work) -> str:
    if work.status == WorkStatus.RETURNED:
        return str(DONE_DECISIONS["returned"])
    return str(DONE_DECISIONS.get(work.decision, work.decision or ""))


@require_GET
@domain_errors
def done(request):
    """已办: the steps I finished or sent back, to find a case again and see where it went."""
    actor = _staff_actor(request)
    form, rows, total, number, per_page = _filtered_page(
        request, DoneFilterForm, _done_filters, partial(cases.done_list, actor)
    )
    departments = _departments(r.work.department_id for r in rows)
    lines = [
        {
            "work": r.work,
            "case": r.case,
            "department": departments.get(r.work.department_id, ""),
            "outcome": _done_outcome(r.work),
            "case_status": CASE_STATUS_LABELS.get(r.case.get("status", ""), ""),
        }
        for r in rows
    ]
    context = {
        "form": form,
        "lines": lines,
        "page": _Page(number, total, per_page),
        "query": query_string(request),
        "items": _item_choices(actor),
    }
    return _list_or_results(request, "cases/office/done.html", "cases/office/_done_results.html", context)


@require_GET
@domain_errors
def done_export(request):
    """已办 as filtered on the page, with decisions and opinions, as XLSX."""
    actor = _staff_actor(request)
    body = _export_rows(
        request,
        DoneFilterForm,
        "cases:done",
        lambda **kw: cases.export_done(actor, **kw),
        _done_filters,
        gettext("Handled"),
        [gettext("Handled at"), gettext("Decision"), gettext("Opinion"), gettext("Case status")],
        lambda r: [
            r.work.completed_at,
            _done_outcome(r.work),
            r.work.opinion,
            str(CASE_STATUS_LABELS.get(r.case.get("status", ""), "")),
        ],
    )
    return body if isinstance(body, HttpResponse) else _xlsx(body, "handled")


# --- 常用意见: saved opinions --------------------------------------------------------------------------


class SavedOpinionForm(forms.Form):
    text = forms.CharField(
        label=_("Opinion"), max_length=500, widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500})
    )


@require_http_methods(["GET", "POST"])
@domain_errors
def opinions(request):
    """The reviewer's 常用意见: kept here or from a step's form, picked on every step page."""
    actor = _staff_actor(request)
    form = SavedOpinionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workflow.save_opinion(actor, form.cleaned_data["text"])
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, gettext("The opinion is saved."))
            return redirect("cases:opinions")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "opinions": workflow.saved_opinions(actor)}
    return render(request, "cases/office/opinions.html", context, status=status)


@require_POST
@domain_errors
def opinion_delete(request, opinion_id: int):
    workflow.delete_saved_opinion(_staff_actor(request), opinion_id)
    messages.success(request, gettext("The opinion is deleted."))
    return redirect("cases:opinions")


# --- one step: the case, and what may be done ------------------------------------------------------------


class _Prefixed(forms.Form):
    """Each action's form has its own prefix, so several sit on one page without clashing ids."""

    prefix_name = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", self.prefix_name)
        super().__init__(*args, **kwargs)


_TEXTAREA = {"rows": 3}


class CompleteForm(_Prefixed):
    prefix_name = "complete"
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Agree (同意)")), ("reject", _("Disagree (不同意)"))],
        widget=forms.RadioSelect,
        initial="approve",
    )
    opinion = forms.CharField(
        label=_("Opinion (意见)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs=_TEXTAREA),
        help_text=_("Reasons are required when you disagree; they go into the decision document."),
    )
    keep_opinion = forms.BooleanField(label=_("Save as a frequent opinion (常用意见)"), required=False)


class ReturnForm(_Prefixed):
    prefix_name = "return"
    opinion = forms.CharField(
        label=_("Why it goes back"), required=False, max_length=2000, widget=forms.Textarea(attrs=_TEXTAREA)
    )
    keep_opinion = forms.BooleanField(label=_("Save as a frequent opinion (常用意见)"), required=False)


class TransferForm(_Prefixed):
    prefix_name = "transfer"
    to_username = forms.ChoiceField(label=_("Colleague"))
    opinion = forms.CharField(label=_("Note"), required=False, max_length=2000)

    def __init__(self, *args, colleagues=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_username"].choices = [("", _("Choose a colleague")), *colleagues]


class CountersignForm(_Prefixed):
    prefix_name = "countersign"
    username = forms.ChoiceField(label=_("Also to sign"))

    def __init__(self, *args, colleagues=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].choices = [("", _("Choose a colleague")), *colleagues]


class ProcedureStartForm(_Prefixed):
    prefix_name = "procedure"
    # Not required here: the service names every missing field at once.
    kind = forms.ChoiceField(
        label=_("Procedure"), required=False, choices=[("", _("Choose…")), *ProcedureKind.choices]
    )
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs=_TEXTAREA)
    )
    expected_days = forms.IntegerField(
        label=_("Expected working days"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "max": 365}),
        help_text=_("The time does not count against the limit; the applicant is told."),
    )


class ProcedureEndForm(_Prefixed):
    prefix_name = "procedure_end"
    result = forms.CharField(
        label=_("Result of the procedure"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs=_TEXTAREA),
    )


class InspectionForm(_Prefixed):
    prefix_name = "inspection"
    decision = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            ("pass", _("Passed: the commitment holds (核查通过)")),
            ("fail", _("Failed: the commitment was false, revoke the approval (核查不通过)")),
        ],
        widget=forms.RadioSelect,
    )
    opinion = forms.CharField(
        label=_("Findings"), required=False, max_length=2000, widget=forms.Textarea(attrs=_TEXTAREA)
    )


class RectificationForm(_Prefixed):
    prefix_name = "rectification"
    measures = forms.CharField(
        label=_("Measures taken (整改措施)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs=_TEXTAREA),
    )
    callback_result = forms.ChoiceField(
        label=_("Callback result (回访)"),
        required=False,
        choices=[("", _("Choose…")), *CallbackResult.choices],
    )
    callback_note = forms.CharField(
        label=_("Callback note"), required=False, max_length=1000, widget=forms.Textarea(attrs=_TEXTAREA)
    )


class RemindForm(_Prefixed):
    prefix_name = "remind"
    message = forms.CharField(
        label=_("Message (optional)"),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("Message (optional)")}),
    )


EXTRA_SUPPLEMENT_ROWS = 3


class SupplementForm(_Prefixed):
    """退回申请人补正: tick the materials to add or fix (or name new ones), each with what is wrong."""

    prefix_name = "supplement"
    note = forms.CharField(
        label=_("Note to the applicant"), required=False, widget=forms.Textarea(attrs=_TEXTAREA)
    )

    def __init__(self, *args, materials=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.materials = list(materials)
        for i, name in enumerate(self.materials):
            self.fields[f"m{i}"] = forms.BooleanField(label=name, required=False)
            self.fields[f"m{i}_reason"] = forms.CharField(
                label=_("What is missing or wrong"),
                required=False,
                max_length=500,
                widget=forms.TextInput(attrs={"placeholder": _("What is missing or wrong")}),
            )
        for i in range(EXTRA_SUPPLEMENT_ROWS):
            self.fields[f"new{i}"] = forms.CharField(
                label=_("Other material"),
                required=False,
                max_length=200,
                widget=forms.TextInput(attrs={"placeholder": _("Other material")}),
            )
            self.fields[f"new{i}_reason"] = forms.CharField(
                label=_("What is missing or wrong"),
                required=False,
                max_length=500,
                widget=forms.TextInput(attrs={"placeholder": _("What is missing or wrong")}),
            )
        self._sources: list[tuple[str, str]] = []

    def rows(self):
        """(tick or name field, reason field) pairs, for the template."""
        pairs = [(self[f"m{i}"], self[f"m{i}_reason"], True) for i in range(len(self.materials))]
        return pairs + [
            (self[f"new{i}"], self[f"new{i}_reason"], False) for i in range(EXTRA_SUPPLEMENT_ROWS)
        ]

    def items(self) -> list[dict]:
        """The notice's items in order, remembering which fields each came from for error messages."""
        data, items, self._sources = self.cleaned_data, [], []
        for i, name in enumerate(self.materials):
            if data.get(f"m{i}"):
                items.append({"material": name, "reason": data.get(f"m{i}_reason", "")})
                self._sources.append((f"m{i}", f"m{i}_reason"))
        for i in range(EXTRA_SUPPLEMENT_ROWS):
            name, reason = data.get(f"new{i}", "").strip(), data.get(f"new{i}_reason", "").strip()
            if name or reason:
                items.append({"material": name, "reason": reason})
                self._sources.append((f"new{i}", f"new{i}_reason"))
        return items

    def apply(self, exc: InvalidInput) -> None:
        for name, problems in exc.fields.items():
            found = re.fullmatch(r"items\[(\d+)\]\.(material|reason)", name)
            target = None
            if found and int(found.group(1)) < len(self._sources):
                material_field, reason_field = self._sources[int(found.group(1))]
                target = material_field if found.group(2) == "material" else reason_field
            elif name == "note":
                target = "note"
            for problem in problems:
                self.add_error(target, str(problem.message))


def _apply(form, exc: InvalidInput, rename: dict | None = None) -> None:
    """Service problems under the form's fields, renaming service names where the form differs."""
    if rename:
        exc = InvalidInput({rename.get(k, k): v for k, v in exc.fields.items()})
    apply_errors(form, exc)


def _material_url(number: str, material_id: int) -> str:
    """The download of an uploaded material (the portal's view serves anyone who may see the case)."""
    try:
        return reverse("cases:material_download", args=[number, material_id])
    except NoReverseMatch:
        return f"/cases/{number}/materials/{material_id}"


def _form_data(case) -> list[dict]:
    """The application form as label → value; ID and phone numbers masked (this page is not a reveal)."""
    if case.item_version_id:
        fields = case.item_version.form_fields or []
    else:
        fields = catalog_services.merged_form(case.bundle_version).fields
    specs = {f.get("key"): f for f in fields if isinstance(f, dict)}
    maskers = {"id_number": mask_id_number, "phone": mask_phone}
    rows = []
    for key, value in (case.data or {}).items():
        spec = specs.get(key)
        if spec is None:
            # The engine keeps the steps' decisions beside the answers (decision, review_decision):
            # process variables, not what the applicant wrote (issue 12, defect 6).
            continue
        kind = spec.get("type", "text")
        if isinstance(value, bool):
            value = gettext("Yes") if value else gettext("No")
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value) if value is not None else ""
        rows.append({"key": key, "label": spec.get("label") or key, "value": maskers.get(kind, str)(text)})
    return rows


def _timeline(detail) -> list[dict]:
    """The case's events, each finished step with its opinion and decision (from its work item)."""
    case = detail.case
    items = {
        w.public_id: w
        for w in WorkItem.objects.filter(subject=case.number)
        .exclude(status__in=("open", "claimed"))
        .only("public_id", "opinion", "decision", "status", "completed_by_id")
    }
    names = _names({e.actor_id for e in detail.events})
    rows = []
    for event in detail.events:
        activity = event.activity
        label = event_log.own_label(activity)
        if label is None and activity.startswith("work:"):
            step = activity[5:]
            label = (
                gettext("%(step)s started") % {"step": step}
                if event.lifecycle == "start"
                else gettext("%(step)s done") % {"step": step}
            )
        work = items.get(event.work_item) if event.work_item else None
        decision = (event.detail or {}).get("decision", "")
        show_opinion = (
            work is not None
            and event.lifecycle == "complete"
            and (activity.startswith("work:") or activity == "work.returned")
        )
        rows.append(
            {
                "at": event.occurred_at,
                "label": label or activity,
                "activity": activity,
                "actor": names.get(event.actor_id) or ("" if event.actor_id is None else event.actor_label),
                "decision": decision,
                "decision_label": (
                    Decision(decision).label
                    if activity == "case.decided" and decision in Decision.values
                    else DECISION_LABELS.get(decision, "")
                ),
                "opinion": work.opinion if show_opinion else "",
                "start": event.lifecycle == "start",
            }
        )
    return rows


def _colleagues(work, actor, *, roles_any: bool = False) -> list[tuple[str, str]]:
    """Who a step can go to: holders of its role for its department (or, for 加签, of any handling role)."""
    roles = ("reviewer", "section_head", "division_head", "bureau_head") if roles_any else (work.role,)
    ids = set()
    for role in roles:
        ids.update(account_services.role_holders(role, work.department_path))
    ids.discard(actor.user.pk)
    if work.assignee_id:
        ids.discard(work.assignee_id)
    return list(
        User.objects.filter(pk__in=ids, is_active=True)
        .order_by("display_name")
        .values_list("username", "display_name")
    )


def _step_forms(actor, work, detail, may: dict, bound: dict | None = None) -> dict:
    """The action forms the page offers, unbound unless the request just posted one."""
    bound = bound or {}
    materials = [m.name for m in detail.materials]
    made = {
        "complete": lambda: CompleteForm(),
        "return": lambda: ReturnForm(),
        "supplement": lambda: SupplementForm(materials=materials),
        "transfer": lambda: TransferForm(colleagues=_colleagues(work, actor)),
        "countersign": lambda: CountersignForm(colleagues=_colleagues(work, actor, roles_any=True)),
        "procedure": lambda: ProcedureStartForm(),
        "procedure_end": lambda: ProcedureEndForm(),
        "inspection": lambda: InspectionForm(),
        "rectification": lambda: RectificationForm(),
        "remind": lambda: RemindForm(),
    }
    return {name: bound.get(name) or make() for name, make in made.items() if may.get(name) or name in bound}


def _oversees(actor, work) -> bool:
    return any(
        g.role in HEAD_ROLES and work.department_path and work.department_path.startswith(g.path)
        for g in getattr(actor, "grants", ())
    )


def _render_step(request, actor, work_id, *, bound=None, conflict=None, status=200):
    work = workflow.access_work(actor, work_id)
    detail = cases.case_detail(actor, work.subject)
    case = detail.case
    user_id = actor.user.pk
    mine = work.assignee_id == user_id
    eligible = workflow.can_work_on(actor, work)
    oversees = _oversees(actor, work)
    in_progress = case.status == "in_progress"
    paused = bool(case.pause_reason)
    step = work.kind == WorkKind.STEP
    may = {
        "claim": work.status == "open" and eligible,
        "complete": step and work.is_open and mine and in_progress and not paused,
        "return": step and work.is_open and mine and work.previous_id is not None and not work.group,
        "supplement": step and work.is_open and mine and in_progress and not paused,
        "transfer": step and work.is_open and (mine or oversees) and not work.group,
        "countersign": step and work.is_open and mine,
        "procedure": step and work.is_open and (mine or oversees) and in_progress and not paused,
        "procedure_end": step
        and work.is_open
        and (mine or oversees)
        and case.pause_reason == PauseReason.SPECIAL,
        "inspection": work.kind == WorkKind.INSPECTION and work.is_open and mine,
        "rectification": work.kind == WorkKind.RECTIFICATION and work.is_open and mine,
        "remind": work.is_open and oversees and not mine,
    }
    forms_ = _step_forms(actor, work, detail, may, bound)
    names = _names([work.assignee_id])
    open_procedure = next((p for p in detail.procedures if p.ended_at is None), None)
    diagram = None
    if detail.process is not None:
        diagram = diagram_context(
            detail.process,
            xml_url=reverse("cases:work_process", args=[work.public_id]),
            current=detail.current_nodes,
            completed=detail.completed_nodes,
        )
    rating = detail.rating if work.kind == WorkKind.RECTIFICATION else None
    context = {
        "returned": cases.return_notes([work]).get(work.id) if work.is_open else None,
        "work": work,
        "detail": detail,
        "case": case,
        "kind_label": KINDS.get(work.kind, work.kind),
        "step_colour": workflow.colour_of(work),
        "case_colour": "paused" if paused else detail.colour,
        "ryg": RYG,
        "department": _departments([work.department_id]).get(work.department_id, ""),
        "due_day": _due_day(work.due_at),
        "case_due_day": _due_day(case.due_at),
        "holder": names.get(work.assignee_id, ""),
        "mine": mine,
        "may": may,
        "any_action": any(may.values()),
        "forms": forms_,
        "open_forms": set((bound or {}).keys()),
        "conflict": conflict,
        "form_data": _form_data(case),
        "materials": [
            {"material": m, "url": _material_url(case.number, m.pk) if m.file_ref else ""}
            for m in detail.materials
        ],
        "timeline": _timeline(detail),
        "diagram": diagram,
        "applicant": mask_name(case.applicant.name) if case.applicant_id else "",
        "open_procedure": open_procedure,
        "rating": rating,
        "supplement_rows": forms_["supplement"].rows() if "supplement" in forms_ else [],
        "secondary": any(
            may[a] for a in ("return", "supplement", "transfer", "countersign", "procedure", "procedure_end")
        ),
        "saved_opinions": workflow.saved_opinions(actor) if (may["complete"] or may["return"]) else [],
        "status_label": WorkStatus(work.status).label,
        "step_colour_label": RYG.get(workflow.colour_of(work), ""),
        "case_colour_label": RYG.get("paused" if paused else detail.colour, ""),
    }
    return render(request, "cases/office/step.html", context, status=status)


@require_GET
@domain_errors
def step(request, work_id):
    return _render_step(request, _actor(request), work_id)


@require_GET
@domain_errors
def process_xml(request, work_id):
    """The BPMN of the case's process, for whoever may open the step (the diagram on its page)."""
    actor = _actor(request)
    work = workflow.access_work(actor, work_id)
    detail = cases.case_detail(actor, work.subject)
    if detail.process is None:
        raise NotFound()
    response = HttpResponse(detail.process.bpmn_xml, content_type="application/xml; charset=utf-8")
    # An attachment, so a browser never renders stored XML as a page of this site; fetch() reads it.
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", detail.process.key)
    response["Content-Disposition"] = f'attachment; filename="{filename}-v{detail.process.version}.bpmn"'
    response["Cache-Control"] = "private, max-age=600"
    return response


@require_POST
@domain_errors
def claim(request, work_id):
    actor = _actor(request)
    try:
        cases.claim_work(actor, work_id)
    except Conflict as exc:
        return _render_step(request, actor, work_id, conflict=exc, status=409)
    messages.success(request, gettext("You have claimed this step; it is yours to handle now."))
    return redirect("cases:work_step", work_id=work_id)


def _act(request, work_id, name: str, perform, success, *, done=False, rename=None, make=None):
    """Run one action posted from the step page.

    Problems go back onto the posted form (nothing was changed); a step someone else took or finished
    meanwhile is a 409 with the service's message at the top of the page.
    """
    actor = _actor(request)
    work = workflow.access_work(actor, work_id)
    if make is not None:
        form = make(request.POST, actor, work)
    else:
        form = {
            "complete": CompleteForm,
            "return": ReturnForm,
            "procedure": ProcedureStartForm,
            "procedure_end": ProcedureEndForm,
            "inspection": InspectionForm,
            "rectification": RectificationForm,
        }[name](request.POST)
    if form.is_valid():
        try:
            result = perform(actor, work, form)
        except InvalidInput as exc:
            if hasattr(form, "apply"):
                form.apply(exc)
            else:
                _apply(form, exc, rename)
        except Conflict as exc:
            return _render_step(request, actor, work_id, bound={name: form}, conflict=exc, status=409)
        else:
            messages.success(request, success(result) if callable(success) else success)
            if done:
                return redirect("cases:worklist")
            return redirect("cases:work_step", work_id=work_id)
    return _render_step(request, actor, work_id, bound={name: form})


@require_POST
@domain_errors
def complete(request, work_id):
    def perform(actor, work, form):
        data = form.cleaned_data
        done = cases.complete_work(actor, work.public_id, decision=data["decision"], opinion=data["opinion"])
        _keep_opinion(request, actor, data)
        return done

    return _act(
        request, work_id, "complete", perform, gettext("The step is done and the case moves on."), done=True
    )


def _keep_opinion(request, actor, data: dict) -> None:
    """After the step is done: keep its opinion as a 常用意见 if asked. A full list does not undo the
    decision; the reviewer is told instead."""
    if not data.get("keep_opinion") or not (data.get("opinion") or "").strip():
        return
    try:
        workflow.save_opinion(actor, data["opinion"])
    except InvalidInput as exc:
        for problems in exc.fields.values():
            for problem in problems:
                messages.warning(request, str(problem.message))


@require_POST
@domain_errors
def return_step(request, work_id):
    def perform(actor, work, form):
        again = cases.return_work(actor, work.public_id, opinion=form.cleaned_data["opinion"])
        _keep_opinion(request, actor, form.cleaned_data)
        return again

    return _act(
        request, work_id, "return", perform, gettext("The step went back to the previous one."), done=True
    )


@require_POST
@domain_errors
def supplement(request, work_id):
    def make(post, actor, work):
        detail = cases.case_detail(actor, work.subject)
        return SupplementForm(post, materials=[m.name for m in detail.materials])

    def perform(actor, work, form):
        return cases.request_supplement(
            actor, work.subject, items=form.items(), note=form.cleaned_data["note"], work_id=work.public_id
        )

    return _act(
        request,
        work_id,
        "supplement",
        perform,
        gettext("The applicant is asked for the supplement; the clock stops until they answer."),
        make=make,
    )


@require_POST
@domain_errors
def transfer(request, work_id):
    def make(post, actor, work):
        return TransferForm(post, colleagues=_colleagues(work, actor))

    def perform(actor, work, form):
        data = form.cleaned_data
        return cases.transfer_work(
            actor, work.public_id, to_username=data["to_username"], opinion=data["opinion"]
        )

    return _act(
        request, work_id, "transfer", perform, gettext("The step is transferred."), done=True, make=make
    )


@require_POST
@domain_errors
def countersign(request, work_id):
    def make(post, actor, work):
        return CountersignForm(post, colleagues=_colleagues(work, actor, roles_any=True))

    def perform(actor, work, form):
        return cases.add_countersigner(actor, work.public_id, username=form.cleaned_data["username"])

    return _act(
        request,
        work_id,
        "countersign",
        perform,
        gettext("The colleague must now sign this step too."),
        make=make,
    )


@require_POST
@domain_errors
def procedure_start(request, work_id):
    def perform(actor, work, form):
        data = form.cleaned_data
        return cases.start_procedure(
            actor,
            work.subject,
            kind=data["kind"],
            reason=data["reason"],
            expected_days=data["expected_days"],
            work_id=work.public_id,
        )

    return _act(
        request,
        work_id,
        "procedure",
        perform,
        gettext("The special procedure has started; its time does not count against the limit."),
    )


@require_POST
@domain_errors
def procedure_end(request, work_id):
    def perform(actor, work, form):
        return cases.end_procedure(
            actor, work.subject, result=form.cleaned_data["result"], work_id=work.public_id
        )

    return _act(
        request,
        work_id,
        "procedure_end",
        perform,
        gettext("The special procedure has ended; the clock runs again."),
    )


@require_POST
@domain_errors
def inspection(request, work_id):
    def perform(actor, work, form):
        data = form.cleaned_data
        return cases.complete_inspection(
            actor, work.public_id, passed=data["decision"] == "pass", opinion=data["opinion"]
        )

    return _act(request, work_id, "inspection", perform, gettext("The inspection is recorded."), done=True)


@require_POST
@domain_errors
def rectification(request, work_id):
    def perform(actor, work, form):
        data = form.cleaned_data
        return cases.complete_rectification(
            actor,
            work.public_id,
            measures=data["measures"],
            callback_result=data["callback_result"],
            callback_note=data["callback_note"],
        )

    return _act(
        request,
        work_id,
        "rectification",
        perform,
        gettext("The rectification and its callback are recorded."),
        done=True,
        rename={"opinion": "measures"},
    )


# --- heads: overdue steps and 催办 -------------------------------------------------------------------------


def _require_head(actor) -> None:
    if not any(g.role in HEAD_ROLES for g in getattr(actor, "grants", ())):
        raise NotPermitted()


def _days_and_hours(working_days: float) -> tuple[int, int]:
    """How late, as heads say it: whole working days and the hours of the one under way."""
    days = int(working_days)
    hours = round((working_days - days) * 24)
    return (days + 1, 0) if hours == 24 else (days, hours)


def _bar(count: int, largest: int) -> int:
    """Width of a CSS bar in steps of 5 % (classes .bar-0 … .bar-100; no inline styles under the CSP)."""
    if not largest or not count:
        return 0
    return max(5, round(count * 20 / largest) * 5)


def _render_overdue(request, actor, *, bound_remind=None, conflict=None, status=200):
    _require_head(actor)
    now = timezone.now()
    rows = workflow.overdue_work(actor, now=now)
    department = request.GET.get("department", "")
    # The summary is counted by the database: a province's overdue list can be long.
    by_department = (
        rows.order_by()
        .values("department__code", "department__short_name", "department__name")
        .annotate(n=Count("id"))
    )
    largest = max((d["n"] for d in by_department), default=0)
    departments = sorted(
        (
            {
                "code": d["department__code"],
                "name": d["department__short_name"] or d["department__name"],
                "count": d["n"],
                "bar": _bar(d["n"], largest),
            }
            for d in by_department
        ),
        key=lambda d: (-d["count"], d["name"] or ""),
    )
    counts = rows.order_by().aggregate(
        total=Count("id"),
        paused=Count("id", filter=Q(paused_since__isnull=False)),
        escalated=Count("id", filter=Q(escalated_at__isnull=False)),
    )
    colours = [
        {"colour": "red", "label": RYG["red"], "count": counts["total"] - counts["paused"]},
        {"colour": "paused", "label": RYG["paused"], "count": counts["paused"]},
    ]
    largest_colour = max(c["count"] for c in colours)
    for c in colours:
        c["bar"] = _bar(c["count"], largest_colour)
    if department:
        rows = rows.filter(department__code=department)
    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    cal = calendar.get_calendar()
    titles = dict(Case.objects.filter(number__in=[i.subject for i in page]).values_list("number", "title"))
    lines = []
    for item in page:
        bound = bound_remind if bound_remind is not None and bound_remind[0] == item.public_id else None
        lines.append(
            {
                "item": item,
                "colour": workflow.colour_of(item, now),
                "due_day": _due_day(item.due_at),
                "late": _days_and_hours(cal.elapsed_working_days(item.due_at, now))
                if item.paused_since is None
                else None,
                "kind_label": KINDS.get(item.kind, item.kind),
                "title": titles.get(item.subject, ""),
                "form": bound[1] if bound else RemindForm(auto_id=f"id_remind_{item.public_id.hex}_%s"),
            }
        )
    back = reverse("cases:overdue") + (f"?{request.GET.urlencode()}" if request.GET else "")
    return render(
        request,
        "cases/office/overdue.html",
        {
            "back": back,
            "page": page,
            "lines": lines,
            "query": query_string(request),
            "total": counts["total"],
            "escalated": counts["escalated"],
            "departments": departments,
            "colours": colours,
            "ryg": RYG,
            "department": department,
            "conflict": conflict,
        },
        status=status,
    )


@require_GET
@domain_errors
def overdue(request):
    return _render_overdue(request, _actor(request))


@require_POST
@domain_errors
def remind(request, work_id):
    """催办 from the overdue list (or a step page): back to where it was sent from."""
    actor = _actor(request)
    work = workflow.access_work(actor, work_id)
    form = RemindForm(request.POST, auto_id=f"id_remind_{work.public_id.hex}_%s")
    back = safe_next(request, reverse("cases:overdue"))
    if form.is_valid():
        try:
            sent = cases.remind_work(actor, work.public_id, message=form.cleaned_data["message"])
        except InvalidInput as exc:
            apply_errors(form, exc)
        except Conflict as exc:
            if back.startswith(reverse("cases:overdue")):
                return _render_overdue(request, actor, conflict=exc, status=409)
            return _render_step(request, actor, work_id, conflict=exc, status=409)
        else:
            messages.success(
                request,
                ngettext(
                    "Reminder sent to %(n)d person about %(step)s of %(case)s.",
                    "Reminder sent to %(n)d people about %(step)s of %(case)s.",
                    sent,
                )
                % {"n": sent, "step": work.name, "case": work.subject},
            )
            return redirect(back)
    if back.startswith(reverse("cases:overdue")):
        return _render_overdue(request, actor, bound_remind=(work.public_id, form))
    return _render_step(request, actor, work_id, bound={"remind": form})


# --- the 秒批 rule editor ---------------------------------------------------------------------------------

HIT_POLICY_HELP = {
    "UNIQUE": _("UNIQUE: at most one rule may match"),
    "FIRST": _("FIRST: the first matching rule in order decides"),
    "ANY": _("ANY: several may match if they agree"),
}
STARTER = {
    "name": "",
    "description": "",
    "hit_policy": "FIRST",
    "inputs": [{"key": "check.materials_complete", "label": "材料齐全", "type": "boolean"}],
    "outputs": [
        {"key": "decision", "label": "结论", "type": "string"},
        {"key": "reason", "label": "理由", "type": "string"},
    ],
    "rules": [
        {"id": "approve_complete", "when": ["true"], "then": ["approve", "材料齐全"], "note": ""},
        {"id": "others", "when": ["-"], "then": ["manual", "其他情形人工审核"], "note": ""},
    ],
}
_OP = re.compile(
    r"(save|try|save_json|add_in|add_out|add_rule|(del_in|del_out|del_rule|up_rule|down_rule)_(\d{1,3}))"
)


class DmnUploadForm(forms.Form):
    dmn = forms.FileField(
        label=_("DMN file"),
        help_text=_("DMN 1.3 XML with one decision table, e.g. from a DMN modeler (at most 1 MB)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".dmn,.xml,application/xml,text/xml"}),
    )

    contract = forms.CharField(
        label=_("秒批 contract (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono", "data-testid": "dmn-contract"}),
        help_text=_(
            'For a DMN model from another tool, taken unchanged: {"decision": …, "outcome": …, '
            '"approve": […], "inputs": {"input data": "data.field or check.name"}, "required": […]}. '
            "Leave empty for a table in our own shape."
        ),
    )

    def clean_contract(self) -> dict | None:
        text = self.cleaned_data["contract"].strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            raise forms.ValidationError(_("The contract is not valid JSON."), code="invalid") from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("The contract is a JSON object."), code="invalid")
        return value

    def clean_dmn(self) -> bytes:
        upload = self.cleaned_data["dmn"]
        if upload.size > rules.MAX_DMN_BYTES:
            raise forms.ValidationError(_("The DMN file is larger than 1 MB."), code="too_large")
        return upload.read(rules.MAX_DMN_BYTES + 1)


def _count(post, name: str, maximum: int) -> int:
    value = post.get(name, "")
    return min(int(value), maximum) if value.isdigit() else 0


def _table_from_post(post) -> tuple[dict, list[str]]:
    """The table exactly as the editor's cells hold it (positions kept, so problems land on their cell)."""
    n_in = _count(post, "n_inputs", rules.MAX_INPUTS)
    n_out = _count(post, "n_outputs", rules.MAX_OUTPUTS)
    n_rules = _count(post, "n_rules", rules.MAX_RULES)

    def column(prefix, i):
        return {
            "key": post.get(f"{prefix}-{i}-key", "").strip(),
            "label": post.get(f"{prefix}-{i}-label", "").strip(),
            "type": post.get(f"{prefix}-{i}-type", "").strip(),
        }

    table = {
        "name": post.get("name", "").strip(),
        "description": post.get("description", "").strip(),
        "hit_policy": post.get("hit_policy", "").strip(),
        "inputs": [column("in", i) for i in range(n_in)],
        "outputs": [column("out", j) for j in range(n_out)],
        "rules": [
            {
                "id": post.get(f"r-{r}-id", "").strip(),
                "when": [post.get(f"r-{r}-when-{i}", "").strip() for i in range(n_in)],
                "then": [post.get(f"r-{r}-then-{j}", "").strip() for j in range(n_out)],
                "note": post.get(f"r-{r}-note", "").strip(),
            }
            for r in range(n_rules)
        ],
    }
    samples = [post.get(f"s-{i}", "").strip() for i in range(n_in)]
    return table, samples


def _edit(table: dict, samples: list[str], op: str) -> str:
    """Add, remove or move a column or rule in place; returns a message when nothing could be done."""
    found = re.fullmatch(r"(del_in|del_out|del_rule|up_rule|down_rule)_(\d+)", op)
    inputs, outputs, rows = table["inputs"], table["outputs"], table["rules"]
    if op == "add_in":
        if len(inputs) >= rules.MAX_INPUTS:
            return gettext("A table has at most %(n)d input columns.") % {"n": rules.MAX_INPUTS}
        inputs.append({"key": "", "label": "", "type": "string"})
        samples.append("")
        for rule in rows:
            rule["when"].append("-")
    elif op == "add_out":
        if len(outputs) >= rules.MAX_OUTPUTS:
            return gettext("A table has at most %(n)d output columns.") % {"n": rules.MAX_OUTPUTS}
        outputs.append({"key": "", "label": "", "type": "string"})
        for rule in rows:
            rule["then"].append("")
    elif op == "add_rule":
        if len(rows) >= rules.MAX_RULES:
            return gettext("A table has at most %(n)d rules.") % {"n": rules.MAX_RULES}
        rows.append(
            {
                "id": "",
                "when": ["-"] * len(inputs),
                "then": ["manual" if c["key"] == "decision" else "" for c in outputs],
                "note": "",
            }
        )
    elif found:
        what, index = found.group(1), int(found.group(2))
        if what == "del_in" and index < len(inputs):
            inputs.pop(index)
            if index < len(samples):
                samples.pop(index)
            for rule in rows:
                if index < len(rule["when"]):
                    rule["when"].pop(index)
        elif what == "del_out" and index < len(outputs):
            outputs.pop(index)
            for rule in rows:
                if index < len(rule["then"]):
                    rule["then"].pop(index)
        elif what == "del_rule" and index < len(rows):
            rows.pop(index)
        elif what == "up_rule" and 0 < index < len(rows):
            rows[index - 1], rows[index] = rows[index], rows[index - 1]
        elif what == "down_rule" and index < len(rows) - 1:
            rows[index], rows[index + 1] = rows[index + 1], rows[index]
    return ""


def _sample_context(table: dict, samples: list[str]) -> tuple[dict, dict]:
    """Sample values typed under the input columns, as the case form (data) and checks would hold them."""
    data, checks = {}, {}
    for column, raw in zip(table["inputs"], samples, strict=False):
        key, kind = column.get("key", ""), column.get("type", "")
        if not raw or "." not in key:
            continue
        value: object = raw
        if kind == "boolean":
            value = {"true": True, "false": False}.get(raw.lower(), raw)
        root, *parts = key.split(".")
        node = {"data": data, "check": checks}.get(root)
        if node is None or not parts:
            continue
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    return data, checks


def _problems(exc: InvalidInput | None) -> dict[str, list[str]]:
    if exc is None:
        return {}
    return {name: [str(p.message) for p in problems] for name, problems in exc.fields.items()}


def _editor(table: dict, samples: list[str], problems: dict[str, list[str]], evaluation=None) -> dict:
    """The table as the template draws it: every cell with its form name, value and problems."""
    used: set[str] = set()

    def take(path: str) -> list[str]:
        used.add(path)
        return problems.get(path, [])

    def column(prefix: str, where: str, i: int, c: dict) -> dict:
        return {
            "index": i,
            "prefix": f"{prefix}-{i}",
            "key": c.get("key", ""),
            "label": c.get("label", ""),
            "type": c.get("type", "") or "string",
            "errors": take(f"{where}[{i}]"),
            "key_errors": take(f"{where}[{i}].key"),
            "label_errors": take(f"{where}[{i}].label"),
            "type_errors": take(f"{where}[{i}].type"),
        }

    inputs = [column("in", "inputs", i, c) for i, c in enumerate(table.get("inputs", []))]
    outputs = [column("out", "outputs", j, c) for j, c in enumerate(table.get("outputs", []))]
    check_labels = verification.available()
    for i, c in enumerate(inputs):
        c["sample"] = samples[i] if i < len(samples) else ""
        c["check_label"] = check_labels.get(c["key"][6:], "") if c["key"].startswith("check.") else ""
    matched = set(evaluation.matched) if evaluation else set()
    chosen = evaluation.rule_id if evaluation else None
    closest = evaluation.closest_rule_id if evaluation and not evaluation.approved else None
    seen = {c.key: c for c in evaluation.checks} if evaluation else {}
    for c in inputs:
        c["seen"] = seen.get(c["key"])
    rows = []
    for r, rule in enumerate(table.get("rules", [])):
        rule_id = rule.get("id") or f"rule_{r + 1}"
        when = rule.get("when", [])
        then = rule.get("then", [])
        cells_in = []
        for i in range(len(inputs)):
            check = inputs[i]["seen"]
            passes = check.cells.get(rule_id) if check is not None else None
            cells_in.append(
                {
                    "name": f"r-{r}-when-{i}",
                    "value": when[i] if i < len(when) else "",
                    "errors": take(f"rules[{r}].when[{i}]"),
                    "passes": passes,
                    "label": inputs[i]["label"] or inputs[i]["key"],
                }
            )
        cells_out = [
            {
                "name": f"r-{r}-then-{j}",
                "list": "decision-values" if outputs[j]["key"] == "decision" else "",
                "value": then[j] if j < len(then) else "",
                "errors": take(f"rules[{r}].then[{j}]"),
                "label": outputs[j]["label"] or outputs[j]["key"],
            }
            for j in range(len(outputs))
        ]
        rows.append(
            {
                "index": r,
                "number": r + 1,
                "id": rule.get("id", ""),
                "id_name": f"r-{r}-id",
                "note_name": f"r-{r}-note",
                "effective_id": rule_id,
                "note": rule.get("note", ""),
                "id_errors": take(f"rules[{r}].id"),
                "note_errors": take(f"rules[{r}].note"),
                "errors": take(f"rules[{r}]") + take(f"rules[{r}].when") + take(f"rules[{r}].then"),
                "when": cells_in,
                "then": cells_out,
                "matched": rule_id in matched,
                "chosen": rule_id == chosen,
                "closest": rule_id == closest,
                "last": r == len(table.get("rules", [])) - 1,
            }
        )
    top = {name: take(name) for name in ("name", "description", "hit_policy", "inputs", "outputs", "rules")}
    rest = [(name, msgs) for name, msgs in problems.items() if name not in used]
    return {
        "name": table.get("name", ""),
        "description": table.get("description", ""),
        "hit_policy": table.get("hit_policy") or "FIRST",
        "inputs": inputs,
        "outputs": outputs,
        "rules": rows,
        "top": top,
        "rest": rest,
        "n_inputs": len(inputs),
        "n_outputs": len(outputs),
        "n_rules": len(rows),
        "has_problems": bool(problems),
    }


def _rule_page(
    request,
    actor,
    code,
    *,
    table=None,
    samples=None,
    problems=None,
    evaluation=None,
    upload_form=None,
    json_text=None,
    json_problems=None,
    status=200,
):
    versions = cases.tables.list_tables(actor, code)  # checks CATALOG_MANAGE on the item's department
    item = ServiceItem.objects.select_related("department", "current").get(code=code)
    draft = next((v for v in versions if v.status == TableStatus.DRAFT), None)
    base = draft or (versions[0] if versions else None)
    # Changes not saved yet: a table posted back that differs from the one stored.
    unsaved = table is not None and (base is None or table != base.table)
    if table is None:
        table = copy.deepcopy(base.table if base else STARTER)
        if not base:
            table["name"] = f"{item.current.name if item.current else item.code}秒批规则"
    # A DMN model attached with its contract is shown as such; the grid starts a table of our shape.
    dmn_table = table if rules.is_dmn_table(table) else None
    if dmn_table is not None:
        table = copy.deepcopy(STARTER)
        table["name"] = dmn_table["name"]
    samples = list(samples or [])
    samples += [""] * (len(table.get("inputs", [])) - len(samples))
    form_fields = (item.current.form_fields if item.current else []) or []
    keys = [
        (f"data.{f['key']}", f.get("label", "")) for f in form_fields if isinstance(f, dict) and f.get("key")
    ]
    keys += [(f"check.{name}", label) for name, label in verification.available().items()]
    next_version = (max((v.version for v in versions), default=0) + 1) if draft is None else draft.version
    context = {
        "item": item,
        "versions": versions,
        "draft": draft,
        "base": base,
        "next_version": next_version,
        "editor": _editor(table, samples, problems or {}, evaluation),
        "types": rules.TYPES,
        "hit_policies": [(p, HIT_POLICY_HELP[p]) for p in rules.HIT_POLICIES],
        "keys": keys,
        "checks": verification.available(),
        "evaluation": evaluation,
        "upload_form": upload_form or DmnUploadForm(),
        "json_text": json_text if json_text is not None else json.dumps(table, ensure_ascii=False, indent=2),
        "json_problems": json_problems or [],
        "unsaved": unsaved,
        "dmn_table": dmn_table,
        "auto_approvable": bool(item.current and item.current.auto_approvable),
    }
    return render(request, "cases/office/rules.html", context, status=status)


@require_http_methods(["GET", "POST"])
@domain_errors
def rule_editor(request, code):
    actor = _staff_actor(request)
    if request.method == "GET":
        return _rule_page(request, actor, code)
    cases.tables.list_tables(actor, code)  # refuse before reading anything posted
    found = _OP.fullmatch(request.POST.get("op", "save"))
    op = found.group(0) if found else "save"
    table, samples = _table_from_post(request.POST)
    if op == "save_json":
        text = request.POST.get("json", "")
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            return _rule_page(
                request,
                actor,
                code,
                table=table,
                samples=samples,
                json_text=text,
                json_problems=[("json", [gettext("This is not valid JSON: %(e)s") % {"e": exc}])],
            )
        try:
            cases.tables.save_draft(actor, code, table=parsed)
        except InvalidInput as exc:
            return _rule_page(
                request,
                actor,
                code,
                table=table,
                samples=samples,
                json_text=text,
                json_problems=list(_problems(exc).items()),
            )
        messages.success(request, gettext("The draft is saved from the JSON text."))
        return redirect("cases:rule_editor", code=code)
    if op == "save":
        try:
            saved = cases.tables.save_draft(actor, code, table=table)
        except InvalidInput as exc:
            return _rule_page(request, actor, code, table=table, samples=samples, problems=_problems(exc))
        messages.success(
            request,
            gettext("Draft version %(n)d is saved. Publish it to decide new applications by it.")
            % {"n": saved.version},
        )
        return redirect("cases:rule_editor", code=code)
    if op == "try":
        data, checks = _sample_context(table, samples)
        try:
            evaluation = cases.tables.try_table(actor, code, data=data, checks=checks, table=table)
        except InvalidInput as exc:
            return _rule_page(request, actor, code, table=table, samples=samples, problems=_problems(exc))
        return _rule_page(request, actor, code, table=table, samples=samples, evaluation=evaluation)
    note = _edit(table, samples, op)
    if note:
        messages.warning(request, note)
    return _rule_page(request, actor, code, table=table, samples=samples)


@require_POST
@domain_errors
def rule_upload(request, code):
    actor = _staff_actor(request)
    cases.tables.list_tables(actor, code)
    form = DmnUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            saved = cases.tables.save_draft(
                actor, code, dmn=form.cleaned_data["dmn"], contract=form.cleaned_data["contract"]
            )
        except InvalidInput as exc:
            for name, problems in exc.fields.items():
                for problem in problems:
                    where = "" if name in ("dmn", "table", "contract") else f"{name}: "
                    target = "contract" if name.startswith("contract") else "dmn"
                    form.add_error(target, f"{where}{problem.message}")
        else:
            messages.success(
                request, gettext("Draft version %(n)d is saved from the DMN file.") % {"n": saved.version}
            )
            return redirect("cases:rule_editor", code=code)
    return _rule_page(request, actor, code, upload_form=form)


@require_GET
@domain_errors
def rule_dmn(request, code, version):
    if not 0 < version < 2**31:
        raise NotFound()  # a number from the URL that no column can hold
    content = cases.tables.export_dmn(_staff_actor(request), code, version)
    response = HttpResponse(content, content_type="application/xml; charset=utf-8")
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", code)
    response["Content-Disposition"] = f'attachment; filename="{filename}-v{version}.dmn"'
    return response


@require_POST
@domain_errors
def rule_publish(request, code):
    actor = _staff_actor(request)
    try:
        table = cases.tables.publish(actor, code)
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            gettext("Version %(n)d of the rules is published: new applications are decided by it.")
            % {"n": table.version},
        )
    return redirect("cases:rule_editor", code=code)


urlpatterns = [
    path("work/", worklist, name="worklist"),
    path("work/overdue", overdue, name="overdue"),
    path("work/export.xlsx", worklist_export, name="worklist_export"),
    path("work/claim", claim_selected, name="work_claim_selected"),
    path("work/done/", done, name="done"),
    path("work/done/export.xlsx", done_export, name="done_export"),
    path("work/opinions/", opinions, name="opinions"),
    path("work/opinions/<int:opinion_id>/delete", opinion_delete, name="opinion_delete"),
    path("work/<uuid:work_id>/", step, name="work_step"),
    path("work/<uuid:work_id>/process.bpmn", process_xml, name="work_process"),
    path("work/<uuid:work_id>/claim", claim, name="work_claim"),
    path("work/<uuid:work_id>/complete", complete, name="work_complete"),
    path("work/<uuid:work_id>/return", return_step, name="work_return"),
    path("work/<uuid:work_id>/supplement", supplement, name="work_supplement"),
    path("work/<uuid:work_id>/transfer", transfer, name="work_transfer"),
    path("work/<uuid:work_id>/countersign", countersign, name="work_countersign"),
    path("work/<uuid:work_id>/procedure", procedure_start, name="work_procedure"),
    path("work/<uuid:work_id>/procedure/end", procedure_end, name="work_procedure_end"),
    path("work/<uuid:work_id>/inspection", inspection, name="work_inspection"),
    path("work/<uuid:work_id>/rectification", rectification, name="work_rectification"),
    path("work/<uuid:work_id>/remind", remind, name="work_remind"),
    path("catalog/items/<str:code>/rules", rule_editor, name="rule_editor"),
    path("catalog/items/<str:code>/rules/dmn", rule_upload, name="rule_upload"),
    path("catalog/items/<str:code>/rules/v<int:version>.dmn", rule_dmn, name="rule_dmn"),
    path("catalog/items/<str:code>/rules/publish", rule_publish, name="rule_publish"),
]
