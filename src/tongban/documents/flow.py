"""The use cases of documents on the workflow engine: the outgoing process (发文: 起草 → 核稿 →
会签 → 签发 → 编号 → 用印 → 印发 → 分发 → 归档) and the incoming one (收文: 签收 → 拟办 → 批办 →
承办 → 归档), with 退回, 转办, 撤回 and 催办, an opinion at every step, and the time limits and
red/yellow/green of the engine's work items (as for cases).

Both processes are BPMN files shipped in processes/ and published at seed or demo time under the
keys document:outgoing and document:incoming; an administrator may publish an edited version like
any other definition. Steps are known by their element ids (draft, review, countersign, signoff,
numbering, sealing, printing, distribution, filing; proposal, instruction, handling, filing): an
edited definition keeps those ids for the steps that change the document, and may add others
(they record their opinion and move on).

A document's process data is derived from the document on every step (its agency, drafting
section and countersigners), so nothing is stored twice. The row locks are taken in one order:
the document (or receipt), then the work item, then its instance.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from tongban.accounts import roles as perms
from tongban.accounts import services as accounts
from tongban.accounts.models import Department, DepartmentKind, Role, User
from tongban.core.errors import Conflict, FieldErrors, Formatted, InvalidInput, NotFound, NotPermitted
from tongban.core.i18n import Later
from tongban.core.uow import current, use_case
from tongban.workflow import services as workflow
from tongban.workflow import store as work_store
from tongban.workflow.models import WorkItem, WorkStatus

from . import activities as act
from . import services
from .models import Document, Receipt, ReceiptKind, ReceiptReading, ReceiptStatus, Status

OUTGOING_KEY = "document:outgoing"
INCOMING_KEY = "document:incoming"
PROCESSES = Path(__file__).resolve().parent / "processes"
SHIPPED = {OUTGOING_KEY: ("outgoing.bpmn", "发文办理"), INCOMING_KEY: ("incoming.bpmn", "收文办理")}
# Steps that may send the document back to drafting (their gateways route "reject" to 起草).
REJECTABLE = frozenset({"review", "countersign", "signoff"})
OPINION_MAX = 2000
# Who signs for a countersigning department: its head first, else a reviewer of the department.
COUNTERSIGN_ROLES = (Role.SECTION_HEAD, Role.DIVISION_HEAD, Role.BUREAU_HEAD, Role.REVIEWER)


def load_definitions() -> int:
    """Publish the shipped processes that are not published yet (seed and demo); how many were."""
    from tongban.core.authz import SYSTEM

    root = Department.objects.filter(parent__isnull=True).order_by("pk").first()
    if root is None:
        return 0
    published = 0
    for key, (filename, name) in SHIPPED.items():
        if workflow.published_definition(key):
            continue
        xml = (PROCESSES / filename).read_text(encoding="utf-8")
        workflow.publish_definition(SYSTEM, key=key, bpmn_xml=xml, department=root, name=name)
        published += 1
    return published


# --- the outgoing process ------------------------------------------------------------------------


def countersigner(department: Department) -> User | None:
    """The person who signs for a department in 会签: the nearest head, else its reviewer."""
    for role in COUNTERSIGN_ROLES:
        ids = accounts.role_holders(role, department.path, nearest_only=True)
        if ids:
            return User.objects.filter(pk=ids[0]).first()
    return None


def clean_countersign(document: Document, codes) -> list[str]:
    """Department codes that countersign: existing, not the drafting section, each with a signer."""
    if isinstance(codes, str):
        codes = [c for c in codes.replace("，", ",").split(",")]
    codes = list(dict.fromkeys(str(c).strip() for c in (codes or []) if str(c).strip()))
    if len(codes) > 20:
        raise InvalidInput.single("countersign_departments", "max", _("At most 20 departments countersign."))
    found = {d.code: d for d in Department.objects.filter(code__in=codes)}
    errors = FieldErrors()
    for code in codes:
        department = found.get(code)
        if department is None:
            errors.add(
                "countersign_departments", "unknown", Formatted(_("No such department: %(c)s."), {"c": code})
            )
        elif department.pk == document.drafting_department_id:
            errors.add(
                "countersign_departments",
                "self",
                _("The drafting section does not countersign its own draft."),
            )
        elif countersigner(department) is None:
            errors.add(
                "countersign_departments",
                "nobody",
                Formatted(_("Nobody in %(name)s can countersign."), {"name": department.name}),
            )
    errors.raise_if_any()
    return codes


def outgoing_data(document: Document) -> dict:
    """The process data of a document, derived from it on every step."""
    departments = Department.objects.filter(code__in=document.countersign_departments or [])
    signers = [countersigner(d) for d in departments]
    return {
        "agency": document.agency.code,
        "drafting": document.drafting_department.code,
        "needs_countersign": bool(signers),
        "countersigners": [u.username for u in signers if u is not None],
    }


def start_outgoing(actor, document: Document, at: dt.datetime) -> bool:
    """Put a new draft on the outgoing process, when one is published; the drafter holds 起草."""
    definition = workflow.published_definition(OUTGOING_KEY)
    if definition is None:
        return False
    _instance, result = workflow.start(
        definition,
        subject=document.ref,
        data=outgoing_data(document),
        default_department=document.drafting_department,
        now=at,
    )
    document.on_flow = True
    for item in result.created:
        if workflow.can_work_on(actor, item):
            workflow.claim(actor, item.public_id, now=at)
    return True


@dataclass(frozen=True)
class Step:
    """A step of a document's (or receipt's) process, as its page shows it."""

    public_id: object
    node_id: str
    name: str
    status: str
    decision: str
    opinion: str
    department: str
    assignee: str
    completed_by: str
    created_at: dt.datetime
    completed_at: dt.datetime | None
    due_at: dt.datetime | None
    colour: str
    is_open: bool


def _department_name(item: WorkItem) -> str:
    """A countersign step is the signer's department's, whatever department the engine filed it under."""
    staff = getattr(item.assignee, "staff", None) if item.group and item.assignee_id else None
    if staff is not None:
        return staff.department.name
    return item.department.name if item.department else ""


def steps(subject: str) -> list[Step]:
    """Every step of a subject's processes, done or open, with who did it and their opinion."""
    rows = (
        WorkItem.objects.filter(subject=subject)
        .select_related("assignee__staff__department", "completed_by", "department")
        .order_by("created_at", "id")
    )
    out = []
    for r in rows:
        is_open = r.status in (WorkStatus.OPEN, WorkStatus.CLAIMED)
        out.append(
            Step(
                public_id=r.public_id,
                node_id=r.node_id,
                name=r.name,
                status=r.get_status_display(),
                decision=r.decision or "",
                opinion=r.opinion or "",
                department=_department_name(r),
                assignee=r.assignee.display_name if r.assignee else "",
                completed_by=r.completed_by.display_name if r.completed_by else "",
                created_at=r.created_at,
                completed_at=r.completed_at,
                due_at=r.due_at,
                colour=workflow.colour_of(r) if is_open else "",
                is_open=is_open,
            )
        )
    return out


def my_steps(actor, subject: str) -> list[Step]:
    """The open steps of a subject the caller may act on now."""
    mine = []
    for step in steps(subject):
        if not step.is_open:
            continue
        item = work_store.load_work(step.public_id)
        if item is not None and workflow.can_work_on(actor, item):
            mine.append(step)
    return mine


def _step_of(actor, subject: str, work_id):
    """The open work item `work_id` of this subject, if the caller may act on it."""
    item = workflow.access_work(actor, work_id)
    if item.subject != subject:
        raise NotFound()
    if item.status not in (WorkStatus.OPEN, WorkStatus.CLAIMED):
        raise Conflict(_("Someone else has already taken or finished this step."))
    return item


def _opinion(value, *, required: bool) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise InvalidInput.single("opinion", "required", _("Give your opinion (意见)."))
    if len(text) > OPINION_MAX:
        raise InvalidInput.single(
            "opinion", "max_length", Formatted(_("At most %(n)d characters."), {"n": OPINION_MAX})
        )
    return text


def _complete(actor, item, decision: str, opinion: str, data: dict, department, at) -> None:
    if item.status == WorkStatus.OPEN:
        item = workflow.claim(actor, item.public_id, now=at)
    workflow.complete(
        actor,
        item.public_id,
        decision=decision,
        opinion=opinion,
        data=data,
        default_department=department,
        now=at,
        item=item,
    )


@use_case("documents.step", object_type="document")
def complete_step(
    actor,
    ref: str,
    work_id,
    *,
    decision: str = "approve",
    opinion: str = "",
    countersign_departments=None,
    seal_code: str = "",
    main_agencies=None,
    cc_agencies=None,
    retention: str = "",
) -> Document:
    """Finish the caller's step of a document with an opinion; what the step does to the document
    (签发, 编号, 用印, 印发, 分发, 归档) happens in the same transaction as the process moving on."""
    document = services.access_document(actor, ref, lock=True)
    current().audit.object_ref = document.ref
    item = _step_of(actor, document.ref, work_id)
    if decision not in ("approve", "reject"):
        raise InvalidInput.single("decision", "choice", _("Choose approve or reject."))
    step = item.node_id
    if decision == "reject" and step not in REJECTABLE:
        raise InvalidInput.single("decision", "choice", _("This step cannot send the draft back; return it."))
    opinion = _opinion(opinion, required=decision == "reject")
    at = services.now()
    if step == "draft":
        services.refuse_classified("", document.title, document.body)
        if countersign_departments is not None:
            document.countersign_departments = clean_countersign(document, countersign_departments)
    elif step == "review" and countersign_departments is not None:
        document.countersign_departments = clean_countersign(document, countersign_departments)
    elif step == "signoff" and decision == "approve":
        if not actor.can(perms.DOCUMENT_SIGN, document.agency):
            raise NotPermitted()
        services.sign_off(document, actor, at)
        current().event(
            act.KIND,
            document.ref,
            act.SIGNED_OFF,
            at=at,
            actor=actor,
            department_code=document.agency.code,
            detail={"version": document.version},
        )
    elif step == "numbering":
        serial = services.assign_number(document, at)
        current().audit.detail = {"number": document.number}
        current().event(
            act.KIND,
            document.ref,
            act.NUMBERED,
            at=at,
            actor=actor,
            department_code=document.agency.code,
            detail={"number": document.number, "serial": serial, "year": document.number_year},
        )
    elif step == "sealing":
        document.save()
        services.do_seal(document, actor, seal_code, at)
    elif step == "printing":
        document.save()
        services.do_issue(document, actor, at)
    elif step == "distribution":
        distribute(actor, document, main_agencies, cc_agencies, at)
    elif step == "filing":
        document.save()
        services.do_archive(document, actor, at, retention=retention)
    document.updated_at = at
    document.save()
    _complete(actor, item, decision, opinion, outgoing_data(document), document.drafting_department, at)
    current().event(
        act.KIND,
        document.ref,
        act.STEP_DONE,
        at=at,
        actor=actor,
        department_code=work_store.department_code(item.department_id) or document.agency.code,
        work_item=str(item.public_id),
        detail={"step": step, "decision": decision, "opinion": opinion},
    )
    return document


@use_case("documents.step_return", object_type="document")
def return_step(actor, ref: str, work_id, *, opinion: str) -> Document:
    """退回: the step goes back to whoever did the one before, with the reason."""
    document = services.access_document(actor, ref, lock=True)
    current().audit.object_ref = document.ref
    item = _step_of(actor, document.ref, work_id)
    opinion = _opinion(opinion, required=True)
    at = services.now()
    workflow.return_to_previous(actor, item.public_id, opinion=opinion, now=at)
    current().event(
        act.KIND,
        document.ref,
        act.STEP_RETURNED,
        at=at,
        actor=actor,
        department_code=work_store.department_code(item.department_id) or document.agency.code,
        work_item=str(item.public_id),
        detail={"step": item.node_id, "opinion": opinion},
    )
    return document


@use_case("documents.step_transfer", object_type="document")
def transfer_step(actor, ref: str, work_id, *, to_username: str, opinion: str = "") -> Document:
    """转办: hand the step to a colleague who holds the same role for its department."""
    document = services.access_document(actor, ref, lock=True)
    current().audit.object_ref = document.ref
    item = _step_of(actor, document.ref, work_id)
    workflow.transfer(actor, item.public_id, to_username=str(to_username or "").strip(), opinion=opinion)
    current().audit.detail = {"step": item.node_id, "to": str(to_username or "")}
    return document


def may_withdraw(actor, document: Document) -> bool:
    """撤回: the drafter takes the draft back while it is with others and not yet signed off."""
    if not (document.on_flow and document.status == Status.DRAFT and services._is_drafter(actor, document)):
        return False
    open_steps = [s for s in steps(document.ref) if s.is_open]
    return bool(open_steps) and all(s.node_id != "draft" for s in open_steps)


@use_case("documents.withdraw", object_type="document")
def withdraw(actor, ref: str, *, reason: str = "") -> Document:
    document = services.access_document(actor, ref, lock=True)
    current().audit.object_ref = document.ref
    if not may_withdraw(actor, document):
        raise Conflict(_("Only the drafter can withdraw a draft that is with others and not yet signed off."))
    reason = _opinion(reason, required=False)
    at = services.now()
    workflow.cancel_subject(document.ref, at)
    start_outgoing(actor, document, at)
    document.updated_at = at
    document.save()
    current().event(
        act.KIND,
        document.ref,
        act.WITHDRAWN,
        at=at,
        actor=actor,
        department_code=document.drafting_department.code,
        detail={"reason": reason},
    )
    return document


@use_case("documents.remind", object_type="document")
def remind(actor, ref: str, work_id, *, message: str = "") -> Document:
    """催办: a head or supervisor over the step's department reminds whoever holds it."""
    document = services.access_document(actor, ref)
    current().audit.object_ref = document.ref
    item = workflow.access_work(actor, work_id)
    if item.subject != document.ref:
        raise NotFound()
    at = services.now()
    workflow.remind(actor, item.public_id, message=message, now=at)
    current().event(
        act.KIND,
        document.ref,
        act.REMINDED,
        at=at,
        actor=actor,
        department_code=work_store.department_code(item.department_id),
        work_item=str(item.public_id),
        detail={"step": item.node_id},
    )
    return document


# --- distribution and 收文 ------------------------------------------------------------------------


def recipient_agencies() -> list[Department]:
    """The agencies a document can be distributed to (bureaus and governments)."""
    return list(
        Department.objects.filter(kind__in=[DepartmentKind.BUREAU, DepartmentKind.GOVERNMENT]).order_by(
            "path"
        )
    )


def _agencies(field: str, codes) -> list[Department]:
    if isinstance(codes, str):
        codes = codes.replace("，", ",").split(",")
    codes = list(dict.fromkeys(str(c).strip() for c in (codes or []) if str(c).strip()))
    found = {
        d.code: d
        for d in Department.objects.filter(
            code__in=codes, kind__in=[DepartmentKind.BUREAU, DepartmentKind.GOVERNMENT]
        )
    }
    missing = [c for c in codes if c not in found]
    if missing:
        raise InvalidInput.single(
            field, "unknown", Formatted(_("Not an agency: %(c)s."), {"c": ", ".join(missing)})
        )
    return [found[c] for c in codes]


def distribute(actor, document: Document, main_codes, cc_codes, at: dt.datetime) -> list[Receipt]:
    """分发: each 主送 and 抄送 agency finds the issued document in its 收文 queue."""
    if document.status not in (Status.ISSUED,):
        raise Conflict(_("Only an issued document is distributed."))
    main = _agencies("main_agencies", main_codes)
    cc = [d for d in _agencies("cc_agencies", cc_codes) if d not in main]
    if not main and not cc:
        raise InvalidInput.single("main_agencies", "required", _("Choose at least one receiving agency."))
    receipts = []
    for kind, agencies in ((ReceiptKind.MAIN, main), (ReceiptKind.CC, cc)):
        for agency in agencies:
            receipt, _created = Receipt.objects.get_or_create(
                document=document,
                agency=agency,
                defaults={"ref": "SW" + secrets.token_hex(5).upper(), "kind": kind, "delivered_at": at},
            )
            receipts.append(receipt)
            holders = set()
            for role in (Role.REVIEWER, Role.SECTION_HEAD, Role.DIVISION_HEAD, Role.BUREAU_HEAD):
                holders |= set(accounts.role_holders(role, agency.path, nearest_only=True))
            accounts.notify(
                sorted(holders),
                kind="reminder",
                title=Later(
                    gettext_noop("New document to sign for (收文): %(number)s %(title)s"),
                    number=document.number,
                    title=document.title,
                ),
                subject=receipt.ref,
                now=at,
            )
    current().event(
        act.KIND,
        document.ref,
        act.DISTRIBUTED,
        at=at,
        actor=actor,
        department_code=document.agency.code,
        detail={"main": [d.code for d in main], "cc": [d.code for d in cc]},
    )
    return receipts


def may_see_receipt(actor, receipt: Receipt) -> bool:
    return bool(
        getattr(actor, "is_system", False)
        or actor.can(perms.DOCUMENT_VIEW, receipt.agency)
        or actor.can(perms.DOCUMENT_SIGN, receipt.agency)
        or (receipt.handling_department and actor.can(perms.DOCUMENT_VIEW, receipt.handling_department))
    )


def receipts(actor, *, status: str = ""):
    """收文 queue: documents received by the agencies the caller works for."""
    services._authenticated(actor)
    if getattr(actor, "is_citizen", False) or not actor.can(perms.DOCUMENT_VIEW):
        raise NotPermitted()
    errors = FieldErrors()
    if status and status not in ReceiptStatus.values:
        errors.add("status", "choice", _("Choose one of the allowed values."))
    errors.raise_if_any()
    q = actor.scope_q(perms.DOCUMENT_VIEW, "agency__path") | actor.scope_q(
        perms.DOCUMENT_VIEW, "handling_department__path"
    )
    rows = Receipt.objects.select_related("document", "document__agency", "agency").filter(q)
    return rows.filter(status=status) if status else rows


def access_receipt(actor, ref: str, *, lock: bool = False) -> Receipt:
    services._authenticated(actor)
    qs = Receipt.objects.select_related("document", "document__agency", "agency", "handling_department")
    if lock:
        qs = qs.select_for_update(of=("self",))
    receipt = qs.filter(ref=str(ref or "")).first()
    if receipt is None or not may_see_receipt(actor, receipt):
        raise NotFound()
    return receipt


def incoming_data(receipt: Receipt) -> dict:
    handler = receipt.handling_department or receipt.agency
    return {"agency": receipt.agency.code, "handler": handler.code}


def may_sign_for(actor, receipt: Receipt) -> bool:
    return receipt.status == ReceiptStatus.DELIVERED and bool(
        actor.can(perms.DOCUMENT_DRAFT, receipt.agency) or actor.can(perms.DOCUMENT_SIGN, receipt.agency)
    )


@use_case("documents.sign_for", object_type="received_document")
def sign_for(actor, ref: str) -> Receipt:
    """签收 and 登记: the read receipt the sender sees; the incoming process starts (拟办 first)."""
    receipt = access_receipt(actor, ref, lock=True)
    current().audit.object_ref = receipt.ref
    if not may_sign_for(actor, receipt):
        raise Conflict(_("This document is already signed for, or you may not sign for your agency."))
    at = services.now()
    receipt.status = ReceiptStatus.HANDLING
    receipt.signed_for_at = at
    receipt.signed_for_by = actor.user
    receipt.save()
    definition = workflow.published_definition(INCOMING_KEY)
    if definition is not None:
        workflow.start(
            definition,
            subject=receipt.ref,
            data=incoming_data(receipt),
            default_department=receipt.agency,
            now=at,
        )
    current().event(
        act.RECEIPT_KIND,
        receipt.ref,
        act.RECEIPT_SIGNED_FOR,
        at=at,
        actor=actor,
        department_code=receipt.agency.code,
        detail={"document": receipt.document.ref},
    )
    return receipt


def read_receipt(actor, ref: str) -> Receipt:
    """Open a received document: the first time each person reads it is recorded (传阅)."""
    receipt = access_receipt(actor, ref)
    user = getattr(actor, "user", None)
    if user is not None and not ReceiptReading.objects.filter(receipt=receipt, user=user).exists():
        _record_reading(actor, receipt.ref)
    return receipt


@use_case("documents.read", object_type="received_document")
def _record_reading(actor, ref: str) -> None:
    receipt = access_receipt(actor, ref)
    current().audit.object_ref = receipt.ref
    at = services.now()
    _reading, created = ReceiptReading.objects.get_or_create(
        receipt=receipt, user=actor.user, defaults={"read_at": at}
    )
    if created:
        current().event(
            act.RECEIPT_KIND,
            receipt.ref,
            act.RECEIPT_READ,
            at=at,
            actor=actor,
            department_code=receipt.agency.code,
        )


@use_case("documents.incoming_step", object_type="received_document")
def complete_incoming(
    actor, ref: str, work_id, *, opinion: str = "", handling_department: str = ""
) -> Receipt:
    """拟办 (the office proposes), 批办 (the leader decides who handles it), 承办 (the handling
    section reports what it did), 归档; each with its opinion."""
    receipt = access_receipt(actor, ref, lock=True)
    current().audit.object_ref = receipt.ref
    item = _step_of(actor, receipt.ref, work_id)
    step = item.node_id
    opinion = _opinion(opinion, required=step in ("proposal", "instruction", "handling"))
    at = services.now()
    if step == "instruction":
        code = str(handling_department or "").strip()
        department = Department.objects.filter(code=code).first() if code else receipt.agency
        if department is None or not receipt.agency.contains(department):
            raise InvalidInput.single(
                "handling_department", "outside", _("Choose a section of the receiving agency to handle it.")
            )
        receipt.handling_department = department
    elif step == "filing":
        receipt.status = ReceiptStatus.ARCHIVED
        receipt.archived_at = at
        current().event(
            act.RECEIPT_KIND,
            receipt.ref,
            act.RECEIPT_ARCHIVED,
            at=at,
            actor=actor,
            department_code=receipt.agency.code,
        )
    receipt.save()
    _complete(actor, item, "approve", opinion, incoming_data(receipt), receipt.agency, at)
    current().event(
        act.RECEIPT_KIND,
        receipt.ref,
        act.RECEIPT_STEP_DONE,
        at=at,
        actor=actor,
        department_code=work_store.department_code(item.department_id) or receipt.agency.code,
        work_item=str(item.public_id),
        detail={"step": step, "opinion": opinion},
    )
    return receipt


# --- the documents worklist ----------------------------------------------------------------------


@dataclass(frozen=True)
class WorkRow:
    public_id: object
    step: str
    colour: str
    due_at: dt.datetime | None
    created_at: dt.datetime
    kind: str  # "outgoing" or "incoming"
    ref: str  # the document's or the receipt's
    number: str
    title: str


def worklist(actor, *, colour: str | None = None, page: int = 1, per_page: int = 20):
    """待办 of documents: the outgoing and incoming steps the caller may take or holds."""
    if getattr(actor, "staff", None) is None:
        raise NotPermitted(_("The worklist is for staff."))
    works, total = workflow.worklist(
        actor, colour=colour or None, key_prefix="document:", page=page, per_page=per_page
    )
    subjects = {w.subject for w in works}
    docs = {d.ref: d for d in Document.objects.filter(ref__in=subjects)}
    got = {r.ref: r for r in Receipt.objects.select_related("document").filter(ref__in=subjects)}
    rows = []
    for w in works:
        document = docs.get(w.subject)
        receipt = got.get(w.subject)
        source = document or (receipt.document if receipt else None)
        rows.append(
            WorkRow(
                public_id=w.public_id,
                step=w.name,
                colour=workflow.colour_of(w),
                due_at=w.due_at,
                created_at=w.created_at,
                kind="incoming" if receipt else "outgoing",
                ref=w.subject,
                number=source.number if source else "",
                title=source.title if source else "",
            )
        )
    return rows, total


def receipts_of(actor, document: Document) -> list[tuple[Receipt, list[ReceiptReading]]]:
    """Where an issued document went, signed for when and by whom, and who has read it."""
    services.access_document(actor, document.ref)
    out = []
    for receipt in document.receipts.select_related("agency", "signed_for_by").order_by(
        "kind", "agency__path"
    ):
        out.append((receipt, list(receipt.readings.select_related("user"))))
    return out


def documents_filtered(actor, *, status: str = "", doc_type: str = "", query: str = ""):
    errors = FieldErrors()
    if status and status not in Status.values:
        errors.add("status", "choice", _("Choose one of the allowed values."))
    errors.raise_if_any()
    rows = services.documents(actor)
    if status:
        rows = rows.filter(status=status)
    if doc_type:
        rows = rows.filter(doc_type=doc_type)
    if query:
        rows = rows.filter(Q(title__icontains=query) | Q(number__icontains=query) | Q(ref=query))
    return rows
