"""The official documents pages (公文): my steps to handle, the documents, a document with its GB/T
9704 elements, opinions, versions and their differences, its PDF and the step actions; the 收文
queue and a received document; 督查督办. Thin over documents.services, .flow and .supervision,
which check who may do what on every object."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tongban.accounts import roles as perms
from tongban.accounts.models import Department
from tongban.core.errors import Conflict, InvalidInput, NotPermitted
from tongban.core.http import apply_errors, domain_errors, query_string, request_actor

from . import flow, search, services, supervision
from .models import (
    RETENTION_OF_TYPE,
    DisposalDecision,
    DocType,
    ReceiptStatus,
    Retention,
    Status,
    TaskStatus,
    Urgency,
)

PER_PAGE = 20
COLOURS = (("", gettext_lazy("all")), ("red", gettext_lazy("red")), ("yellow", gettext_lazy("yellow")))
COLOURS += (("green", gettext_lazy("green")),)


def _refusal(request, exc) -> None:
    """A step that could not be done: its reasons on the page it came from."""
    if isinstance(exc, InvalidInput):
        for problems in exc.fields.values():
            for problem in problems:
                messages.error(request, f"{problem.message}")
    else:
        messages.error(request, str(getattr(exc, "message", "") or exc))


# --- forms ---------------------------------------------------------------------------------------


class DraftForm(forms.Form):
    doc_type = forms.ChoiceField(label=gettext_lazy("Document type"), choices=DocType.choices)
    classification = forms.ChoiceField(
        label=gettext_lazy("Classification (密级)"),
        choices=[("", gettext_lazy("not classified")), ("内部", "内部"), ("秘密", "秘密")],
        required=False,
        help_text=gettext_lazy("Documents marked 秘密 or above are not handled on this system."),
    )
    urgency = forms.ChoiceField(label=gettext_lazy("Urgency"), choices=Urgency.choices, required=False)
    copy_number = forms.CharField(label=gettext_lazy("Copy number (份号)"), required=False, max_length=6)
    title = forms.CharField(label=gettext_lazy("Title (标题)"), max_length=200)
    main_recipients = forms.CharField(label=gettext_lazy("Main recipients (主送机关)"), required=False)
    body = forms.CharField(
        label=gettext_lazy("Text (正文)"),
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=gettext_lazy("Headings start 一、 （一） 1. （1）"),
    )
    attachments = forms.CharField(
        label=gettext_lazy("Attachments (附件说明)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=gettext_lazy("One per line"),
    )
    note = forms.CharField(label=gettext_lazy("Note (附注)"), required=False)
    cc = forms.CharField(label=gettext_lazy("Copied to (抄送机关)"), required=False)


class DocxForm(forms.Form):
    docx = forms.FileField(
        label=gettext_lazy("Start from a DOCX (正文导入)"),
        help_text=gettext_lazy(
            "The first paragraph becomes the title, a line ending in ： the main recipients."
        ),
    )


def _draft_fields(form) -> dict:
    return dict(form.cleaned_data)


# --- outgoing ------------------------------------------------------------------------------------


@domain_errors
def worklist(request):
    actor = request_actor(request)
    colour = request.GET.get("colour") or ""
    if colour not in dict(COLOURS):
        colour = ""
    try:
        number = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        number = 1
    rows, total = flow.worklist(actor, colour=colour or None, page=number, per_page=PER_PAGE)
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    return render(
        request,
        "documents/worklist.html",
        {
            "rows": rows,
            "total": total,
            "page": number,
            "pages": pages,
            "colour": colour,
            "colours": COLOURS,
            "query": query_string(request),
            "may_draft": actor.can(perms.DOCUMENT_DRAFT),
        },
    )


@domain_errors
def document_list(request):
    actor = request_actor(request)
    status = request.GET.get("status") or ""
    doc_type = request.GET.get("doc_type") or ""
    text = (request.GET.get("q") or "").strip()[:100]
    try:
        rows = flow.documents_filtered(actor, status=status, doc_type=doc_type, query=text)
    except InvalidInput:
        rows = flow.documents_filtered(actor)
        status = ""
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "documents/list.html",
        {
            "page": page,
            "status": status,
            "doc_type": doc_type,
            "q": text,
            "statuses": Status.choices,
            "types": DocType.choices,
            "query": query_string(request),
        },
    )


@domain_errors
def create(request):
    actor = request_actor(request)
    if not actor.can(perms.DOCUMENT_DRAFT):
        raise NotPermitted()
    upload = DocxForm()
    if request.method == "POST" and "import_docx" in request.POST:
        # A DOCX fills the form; nothing is saved until the author saves the form.
        upload = DocxForm(request.POST, request.FILES)
        form = DraftForm(initial={"doc_type": "notice"})
        if upload.is_valid():
            try:
                from . import docx_in

                fields = docx_in.read_docx(upload.cleaned_data["docx"].read(docx_in.MAX_BYTES + 1))
            except InvalidInput as exc:
                apply_errors(upload, exc)
            else:
                form = DraftForm(initial={"doc_type": "notice", **fields})
                messages.info(request, _("Read from the DOCX: check the fields, then save."))
        return render(request, "documents/form.html", {"form": form, "document": None, "upload": upload})
    form = DraftForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            document = services.create_draft(actor, **_draft_fields(form))
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Draft saved as version 1."))
            return redirect("documents:detail", ref=document.ref)
    return render(request, "documents/form.html", {"form": form, "document": None, "upload": upload})


@domain_errors
def edit(request, ref):
    actor = request_actor(request)
    document = services.access_document(actor, ref)
    if not services.may_edit(actor, document):
        raise NotPermitted()
    initial = {name: getattr(document, name) for name in DraftForm.base_fields if hasattr(document, name)}
    form = DraftForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = _draft_fields(form)
        fields.pop("doc_type", None)
        try:
            services.save_draft(actor, ref, expected_version=request.POST.get("version") or None, **fields)
        except InvalidInput as exc:
            apply_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Saved as a new version."))
            return redirect("documents:detail", ref=ref)
    return render(request, "documents/form.html", {"form": form, "document": document})


def _departments_for_countersign(document):
    return (
        Department.objects.filter(is_active=True).exclude(pk=document.drafting_department_id).order_by("path")
    )


@domain_errors
def detail(request, ref):
    actor = request_actor(request)
    document = services.access_document(actor, ref)
    versions = services.versions(actor, ref)
    mine = flow.my_steps(actor, document.ref)
    held = services.seals_held(actor, document)
    return render(
        request,
        "documents/detail.html",
        {
            "document": document,
            "steps": flow.steps(document.ref),
            "mine": mine,
            "versions": versions,
            "may_edit": services.may_edit(actor, document),
            "may_withdraw": flow.may_withdraw(actor, document),
            "may_remind": actor.can(perms.WORK_SUPERVISE),
            "may_instruct": supervision.may_instruct(actor),
            "receipts": flow.receipts_of(actor, document) if document.receipts.exists() else [],
            "seals": held,
            "agencies": flow.recipient_agencies(),
            "departments": _departments_for_countersign(document),
            "countersign": set(document.countersign_departments or []),
            "tasks": document.supervised_tasks.all(),
            "may_dispose": services.may_dispose(actor, document),
            "disposal_records": document.disposals.select_related("decided_by"),
            "retentions": Retention.choices,
            "default_retention": RETENTION_OF_TYPE.get(document.doc_type),
            "decisions": DisposalDecision.choices,
            "colours": {t.ref: supervision.colour(t) for t in document.supervised_tasks.all()},
        },
    )


@domain_errors
def diff(request, ref):
    actor = request_actor(request)
    document = services.access_document(actor, ref)
    try:
        old = int(request.GET.get("old") or 1)
        new = int(request.GET.get("new") or document.version)
        changes = services.diff(actor, ref, old, new)
        problem = ""
    except (ValueError, InvalidInput):
        old, new, changes, problem = 1, document.version, [], _("There is no such version.")
    fields = {}
    for change in changes:
        fields.setdefault(change.field, []).append(change)
    labels = {f.name: f.verbose_name for f in document._meta.fields}
    return render(
        request,
        "documents/diff.html",
        {
            "document": document,
            "old": old,
            "new": new,
            "fields": [(labels.get(name, name), parts) for name, parts in fields.items()],
            "versions": services.versions(actor, ref),
            "problem": problem,
        },
    )


@domain_errors
def pdf(request, ref):
    actor = request_actor(request)
    document = services.access_document(actor, ref)
    content = services.sealed_pdf(actor, ref) if hasattr(document, "sealing") else services.pdf(actor, ref)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        False, f"{document.number or document.ref}.pdf"
    )
    return response


@domain_errors
def ofd_download(request, ref):
    actor = request_actor(request)
    document = services.access_document(actor, ref)
    response = HttpResponse(services.ofd_file(actor, ref), content_type="application/ofd")
    response["Content-Disposition"] = content_disposition_header(
        True, f"{document.number or document.ref}.ofd"
    )
    return response


@domain_errors
@require_POST
def step(request, ref, work_id):
    actor = request_actor(request)
    action = request.POST.get("action") or "approve"
    post = request.POST
    try:
        if action in ("approve", "reject"):
            flow.complete_step(
                actor,
                ref,
                work_id,
                decision=action,
                opinion=post.get("opinion", ""),
                countersign_departments=post.getlist("countersign") if "countersign_given" in post else None,
                seal_code=post.get("seal_code", ""),
                main_agencies=post.getlist("main"),
                cc_agencies=post.getlist("cc"),
                retention=post.get("retention", ""),
            )
            messages.success(request, _("Step done."))
        elif action == "return":
            flow.return_step(actor, ref, work_id, opinion=post.get("opinion", ""))
            messages.success(request, _("Step returned."))
        elif action == "remind":
            flow.remind(actor, ref, work_id, message=post.get("opinion", ""))
            messages.success(request, _("Reminder sent."))
        elif action == "transfer":
            flow.transfer_step(actor, ref, work_id, to_username=post.get("to_username", ""))
            messages.success(request, _("Step transferred."))
        else:
            messages.error(request, _("Unknown action."))
    except (InvalidInput, Conflict) as exc:
        _refusal(request, exc)
    return redirect("documents:detail", ref=ref)


@domain_errors
@require_POST
def withdraw(request, ref):
    actor = request_actor(request)
    try:
        flow.withdraw(actor, ref, reason=request.POST.get("reason", ""))
        messages.success(request, _("Withdrawn: the draft is back with you."))
    except (InvalidInput, Conflict) as exc:
        _refusal(request, exc)
    return redirect("documents:detail", ref=ref)


# --- the archive and search ---------------------------------------------------------------------


def _agencies():
    return [d for d in flow.recipient_agencies() if d.is_active]


@domain_errors
def archive(request):
    """归档: archived documents with filters; the disposal list (到期鉴定) and the register."""
    actor = request_actor(request)
    view = request.GET.get("view") or ""
    if view not in ("due", "register"):
        view = ""
    values = {
        name: (request.GET.get(name) or "").strip()[:40]
        for name in ("doc_type", "retention", "year", "agency", "number")
    }
    problems = {}
    if view == "register":
        page = Paginator(services.disposals(actor), PER_PAGE).get_page(request.GET.get("page"))
    else:
        try:
            rows = services.archived(
                actor,
                doc_type=values["doc_type"],
                retention=values["retention"],
                year=values["year"],
                agency_code=values["agency"],
                number=values["number"],
                due=view == "due",
            )
        except InvalidInput as exc:
            problems = {name: [str(p.message) for p in items] for name, items in exc.fields.items()}
            rows = services.archived(actor, due=view == "due")
        page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "documents/archive.html",
        {
            "page": page,
            "view": view,
            "values": values,
            "problems": problems,
            "types": DocType.choices,
            "retentions": Retention.choices,
            "agencies": _agencies(),
            "query": query_string(request),
            "today": services.today(),
        },
    )


@domain_errors
@require_POST
def dispose(request, ref):
    actor = request_actor(request)
    post = request.POST
    try:
        services.dispose(
            actor,
            ref,
            decision=post.get("decision", ""),
            reason=post.get("reason", ""),
            new_retention=post.get("new_retention", ""),
        )
        messages.success(request, _("The decision is recorded in the disposal register."))
    except (InvalidInput, Conflict) as exc:
        _refusal(request, exc)
    return redirect("documents:detail", ref=ref)


@domain_errors
def search_page(request):
    """全文检索: words of titles, texts, 发文字号 and agencies, with filters; only what the caller
    may read."""
    actor = request_actor(request)
    text = (request.GET.get("q") or "").strip()
    names = ("doc_type", "status", "year", "agency", "number", "date_from", "date_to")
    values = {name: (request.GET.get(name) or "").strip()[:40] for name in names}
    problems = {}
    results = None
    try:
        page = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        page = 1
    try:
        filters = search.clean_filters(
            doc_type=values["doc_type"],
            status=values["status"],
            year=values["year"],
            agency_code=values["agency"],
            number=values["number"],
            date_from=values["date_from"],
            date_to=values["date_to"],
        )
        if text:
            results = search.search(actor, text, filters, page=page)
    except InvalidInput as exc:
        problems = {name: [str(p.message) for p in items] for name, items in exc.fields.items()}
    if results is None:
        services.documents(actor)  # staff only, as the search itself
    return render(
        request,
        "documents/search.html",
        {
            "q": text[: search.QUERY_MAX],
            "values": values,
            "problems": problems,
            "results": results,
            "types": DocType.choices,
            "statuses": Status.choices,
            "agencies": _agencies(),
            "query": query_string(request),
            "count_cap": search.COUNT_CAP,
        },
    )


# --- 收文 -----------------------------------------------------------------------------------------


@domain_errors
def received(request):
    actor = request_actor(request)
    status = request.GET.get("status") or ""
    if status not in ReceiptStatus.values:
        status = ""
    page = Paginator(flow.receipts(actor, status=status), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "documents/received.html",
        {"page": page, "status": status, "statuses": ReceiptStatus.choices, "query": query_string(request)},
    )


@domain_errors
def receipt(request, ref):
    actor = request_actor(request)
    got = flow.read_receipt(actor, ref)
    return render(
        request,
        "documents/receipt.html",
        {
            "receipt": got,
            "document": got.document,
            "steps": flow.steps(got.ref),
            "mine": flow.my_steps(actor, got.ref),
            "may_sign_for": flow.may_sign_for(actor, got),
            "readings": got.readings.select_related("user"),
            "sections": Department.objects.filter(path__startswith=got.agency.path, is_active=True).order_by(
                "path"
            ),
            "may_instruct": supervision.may_instruct(actor),
        },
    )


@domain_errors
def receipt_pdf(request, ref):
    actor = request_actor(request)
    document = flow.access_receipt(actor, ref).document
    sealed = hasattr(document, "sealing")
    content = services.sealed_pdf(actor, document.ref) if sealed else services.pdf(actor, document.ref)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        False, f"{document.number or document.ref}.pdf"
    )
    return response


@domain_errors
@require_POST
def receipt_sign_for(request, ref):
    actor = request_actor(request)
    try:
        flow.sign_for(actor, ref)
        messages.success(request, _("Signed for (签收)."))
    except (InvalidInput, Conflict) as exc:
        _refusal(request, exc)
    return redirect("documents:receipt", ref=ref)


@domain_errors
@require_POST
def receipt_step(request, ref, work_id):
    actor = request_actor(request)
    try:
        flow.complete_incoming(
            actor,
            ref,
            work_id,
            opinion=request.POST.get("opinion", ""),
            handling_department=request.POST.get("handling_department", ""),
        )
        messages.success(request, _("Step done."))
    except (InvalidInput, Conflict) as exc:
        _refusal(request, exc)
    return redirect("documents:receipt", ref=ref)


# --- 督查督办 --------------------------------------------------------------------------------------


class TaskForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    instruction = forms.CharField(
        label=gettext_lazy("Instruction (批示)"), widget=forms.Textarea(attrs={"rows": 4})
    )
    lead_department = forms.ChoiceField(label=gettext_lazy("Lead department (牵头)"))
    co_departments = forms.MultipleChoiceField(
        label=gettext_lazy("Co-owners (配合)"), required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )
    limit_days = forms.IntegerField(label=gettext_lazy("Limit (working days)"), min_value=1, max_value=250)
    document_ref = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(d.code, d.name) for d in departments]
        self.fields["lead_department"].choices = choices
        self.fields["co_departments"].choices = choices


def _task_departments():
    return list(Department.objects.filter(is_active=True).order_by("path"))


@domain_errors
def tasks(request):
    actor = request_actor(request)
    status = request.GET.get("status") or ""
    if status not in TaskStatus.values:
        status = ""
    form = None
    if supervision.may_instruct(actor):
        form = TaskForm(
            request.POST or None,
            departments=_task_departments(),
            initial={"document_ref": request.GET.get("document", ""), "limit_days": 10},
        )
        if request.method == "POST" and form.is_valid():
            try:
                task = supervision.create_task(actor, **form.cleaned_data)
            except InvalidInput as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("The instruction is under supervision."))
                return redirect("documents:task", ref=task.ref)
    elif request.method == "POST":
        raise NotPermitted()
    rows = supervision.tasks(actor, status=status)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "documents/tasks.html",
        {
            "page": page,
            "colours": {t.ref: supervision.colour(t) for t in page},
            "form": form,
            "status": status,
            "statuses": TaskStatus.choices,
            "overview": supervision.overview(actor),
            "query": query_string(request),
        },
    )


@domain_errors
def task(request, ref):
    actor = request_actor(request)
    got = supervision.access_task(actor, ref)
    return render(
        request,
        "documents/task.html",
        {
            "task": got,
            "colour": supervision.colour(got),
            "reports": got.reports.select_related("reported_by"),
            "may_report": supervision.may_report(actor, got),
            "may_close": supervision.may_close(actor, got),
            "may_notice": supervision.may_notice(actor, got),
        },
    )


@domain_errors
@require_POST
def task_report(request, ref):
    actor = request_actor(request)
    try:
        supervision.report(actor, ref, text=request.POST.get("text", ""))
        messages.success(request, _("Progress reported."))
    except (InvalidInput, Conflict) as exc:
        _refusal(request, exc)
    return redirect("documents:task", ref=ref)


@domain_errors
@require_POST
def task_close(request, ref):
    actor = request_actor(request)
    try:
        supervision.close(actor, ref, evidence=request.POST.get("evidence", ""))
        messages.success(request, _("Closed."))
    except (InvalidInput, Conflict) as exc:
        _refusal(request, exc)
    return redirect("documents:task", ref=ref)


@domain_errors
@require_POST
def task_notice(request, ref):
    actor = request_actor(request)
    try:
        content = supervision.notice_pdf(actor, ref)
    except (InvalidInput, Conflict) as exc:
        _refusal(request, exc)
        return redirect("documents:task", ref=ref)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, f"督办通知-{ref}.pdf")
    return response


# --- verification --------------------------------------------------------------------------------


@domain_errors
def verify(request):
    actor = request_actor(request)
    result, errors = None, []
    if request.method == "POST":
        upload = request.FILES.get("file")
        content = upload.read(services.VERIFY_MAX_BYTES + 1) if upload else b""
        try:
            result = services.verify_file(actor, content)
        except InvalidInput as exc:
            errors = exc.messages_for("file")
    return render(request, "documents/verify.html", {"result": result, "errors": errors})
