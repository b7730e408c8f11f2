"""The use cases of official documents (公文): drafting with versions, sign-off with the 发文字号,
voided numbers, issue and archive.

Who may do what (permissions in accounts.roles, checked here on every object):
- document.draft, in the drafting section: create drafts and save them while they are drafts;
- document.sign, over the issuing agency (its leader): sign off (签发), which assigns the 发文字号,
  and void a number given to a document that was not issued;
- document.view, over the drafting section or the agency: read the document and its versions.
A document the caller may not see is NotFound, so its existence does not leak. Only drafts change:
a signed, issued or archived document refuses any edit, and the refusal is journalled (the unit of
work journals every refused use case).

Numbering. The 发文字号 is 机关代字〔年份〕序号号, unique per 代字 and year, taken at sign-off from the
code's counter row for that year (NumberCounter), locked with SELECT … FOR UPDATE until the
sign-off commits: on PostgreSQL concurrent sign-offs of one code queue on that row; on SQLite the
transaction already holds the database's write lock (BEGIN IMMEDIATE, settings.py). A sign-off
that fails rolls its serial back with it, so committed serials run 1, 2, 3 … with no gap; the one
way a serial goes missing is a recorded void (NumberVoid).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts import roles as perms
from tongban.accounts.models import Department, DepartmentKind
from tongban.core.errors import (
    Conflict,
    FieldErrors,
    Formatted,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    NotPermitted,
)
from tongban.core.uow import current, use_case

from . import activities as act
from .models import (
    CONTENT_FIELDS,
    FORM_OF_TYPE,
    NO_RECIPIENT_TYPES,
    RETENTION_OF_TYPE,
    UPWARD_TYPES,
    Disposal,
    DisposalDecision,
    DocType,
    Document,
    DocumentVersion,
    Form,
    NumberCounter,
    NumberVoid,
    Retention,
    Seal,
    Sealing,
    Status,
    Urgency,
)

KIND = act.KIND
BODY_MAX = 100_000
REASON_MAX = 500

# 密级 (GB/T 9704 7.2.2): this system holds non-classified documents only.
CLASSIFIED = frozenset({"秘密", "机密", "绝密", "secret", "confidential", "top_secret", "top secret"})
NOT_CLASSIFIED = frozenset({"", "非密", "none", "unclassified", "公开", "public", "内部", "internal"})
# The marking as printed: 秘密★1年, 机密★, 绝密★长期.
_CLASSIFIED_MARK = re.compile(r"(绝密|机密|秘密)\s*[★☆*]")
CLASSIFIED_MESSAGE = _(
    "This system handles non-classified documents only. A document marked 秘密, 机密 or 绝密 must "
    "be handled on the classified network, not here."
)
_AGENCY_CODE = re.compile(r"^[\u4e00-\u9fffA-Za-z]{1,20}$")
_COPY_NUMBER = re.compile(r"^\d{6}$")


def now() -> dt.datetime:
    return timezone.now()


def today() -> dt.date:
    return timezone.localdate()


# --- access --------------------------------------------------------------------------------------


def _authenticated(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotAuthenticated()


def agency_of(department: Department) -> Department:
    """The issuing agency (发文机关) of a section: the nearest bureau or government above it."""
    node = department
    while node is not None:
        if node.kind in (DepartmentKind.BUREAU, DepartmentKind.GOVERNMENT):
            return node
        node = node.parent
    return department


def _is_drafter(actor, document: Document) -> bool:
    user = getattr(actor, "user", None)
    return user is not None and document.drafted_by_id == user.pk


def may_see(actor, document: Document) -> bool:
    """The drafter, staff over its section or agency; the countersigning departments while it is
    with them and after; and the agencies it was distributed to (收文)."""
    if getattr(actor, "is_system", False) or _is_drafter(actor, document):
        return True
    if any(
        actor.can(permission, scope)
        for permission in (perms.DOCUMENT_VIEW, perms.DOCUMENT_SIGN)
        for scope in (document.drafting_department, document.agency)
    ):
        return True
    if not actor.can(perms.DOCUMENT_VIEW):
        return False
    others = list(Department.objects.filter(code__in=document.countersign_departments or []))
    others += [r.agency for r in document.receipts.select_related("agency")]
    return any(actor.can(perms.DOCUMENT_VIEW, department) for department in others)


def may_edit(actor, document: Document) -> bool:
    return document.status == Status.DRAFT and bool(
        actor.can(perms.DOCUMENT_DRAFT, document.drafting_department)
    )


def may_sign(actor, document: Document) -> bool:
    return (
        document.status == Status.DRAFT
        and not document.on_flow
        and bool(actor.can(perms.DOCUMENT_SIGN, document.agency))
    )


def may_void(actor, document: Document) -> bool:
    return (
        document.status == Status.SIGNED
        and not document.on_flow
        and bool(actor.can(perms.DOCUMENT_SIGN, document.agency))
    )


def may_issue(actor, document: Document) -> bool:
    return (
        document.status in (Status.SIGNED, Status.SEALED)
        and not document.on_flow
        and bool(
            actor.can(perms.DOCUMENT_DRAFT, document.drafting_department)
            or actor.can(perms.DOCUMENT_SIGN, document.agency)
        )
    )


def may_archive(actor, document: Document) -> bool:
    return (
        document.status == Status.ISSUED
        and not document.on_flow
        and bool(
            actor.can(perms.DOCUMENT_DRAFT, document.drafting_department)
            or actor.can(perms.DOCUMENT_SIGN, document.agency)
        )
    )


def documents(actor) -> QuerySet:
    """The documents the caller may see."""
    _authenticated(actor)
    base = Document.objects.select_related("agency", "drafting_department", "drafted_by")
    if getattr(actor, "is_system", False):
        return base
    if getattr(actor, "is_citizen", False):
        raise NotPermitted()
    q = Q(drafted_by=getattr(actor, "user", None))
    for permission in (perms.DOCUMENT_VIEW, perms.DOCUMENT_SIGN):
        if actor.can(permission):
            q |= actor.scope_q(permission, "drafting_department__path")
            q |= actor.scope_q(permission, "agency__path")
    return base.filter(q)


ARCHIVED_MESSAGE = _("This document is archived: an archived document cannot be changed.")


def access_document(actor, ref: str, *, lock: bool = False, archived_ok: bool = False) -> Document:
    """The document, if the caller may see it (row-locked when asked); NotFound otherwise.

    Every use case that changes a document takes it locked, so this is the one door where an
    archived (or disposed of) document refuses any change; only the archive's own disposal passes
    `archived_ok`. The unit of work journals the refusal."""
    _authenticated(actor)
    qs = Document.objects.select_related("agency", "drafting_department", "drafted_by", "signed_by")
    if lock:
        qs = qs.select_for_update(of=("self",))
    document = qs.filter(ref=str(ref or "")).first()
    if document is None or not may_see(actor, document):
        raise NotFound()
    if lock and not archived_ok and document.status in (Status.ARCHIVED, Status.DISPOSED):
        current().audit.object_ref = document.ref
        raise Conflict(ARCHIVED_MESSAGE)
    return document


def _require_status(document: Document, *allowed) -> None:
    if document.status not in allowed:
        raise Conflict(
            Formatted(
                _("The document is %(status)s; this step is not possible now."),
                {"status": document.get_status_display()},
            )
        )


# --- input checks --------------------------------------------------------------------------------


def refuse_classified(classification, *texts: str) -> None:
    """Raise InvalidInput when the document is marked 秘密 or above, by its field or in its text."""
    value = str(classification or "").strip()
    if value.lower() in CLASSIFIED or value in CLASSIFIED:
        raise InvalidInput.single("classification", "classified", CLASSIFIED_MESSAGE)
    if value.lower() not in NOT_CLASSIFIED:
        raise InvalidInput.single("classification", "choice", _("Choose one of the allowed values."))
    for name, text in zip(("title", "body"), texts, strict=False):
        if text and _CLASSIFIED_MARK.search(text):
            raise InvalidInput.single(name, "classified", CLASSIFIED_MESSAGE)


def _date(errors: FieldErrors, name: str, value) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.add(name, "invalid", _("Enter a date as YYYY-MM-DD."))
        return None


def _text(errors: FieldErrors, name: str, value, *, max_length: int, required: bool = False) -> str:
    if required:
        return errors.require_text(name, value, max_length=max_length)
    text = str(value or "").strip()
    if len(text) > max_length:
        errors.add(name, "max_length", Formatted(_("At most %(n)d characters."), {"n": max_length}))
    return text


def clean_content(fields: dict, *, existing: Document | None = None) -> dict:
    """The content fields given, checked all at once: field problems in one InvalidInput."""
    errors = FieldErrors()
    refuse_classified(fields.get("classification"), fields.get("title", ""), fields.get("body", ""))
    unknown = set(fields) - set(CONTENT_FIELDS) - {"classification"}
    for name in sorted(unknown):
        errors.add(name, "unknown", _("This field does not exist."))
    out: dict = {}
    given = lambda name: name in fields or existing is None  # noqa: E731
    if given("doc_type"):
        value = str(fields.get("doc_type") or "")
        if value not in DocType.values:
            errors.add("doc_type", "choice", _("Choose one of the allowed values."))
        out["doc_type"] = value
    if "form" in fields:
        value = str(fields.get("form") or "")
        if value not in Form.values:
            errors.add("form", "choice", _("Choose one of the allowed values."))
        out["form"] = value
    if given("urgency"):
        value = str(fields.get("urgency") or "")
        if value not in Urgency.values:
            errors.add("urgency", "choice", _("Choose one of the allowed values."))
        out["urgency"] = value
    if given("copy_number"):
        value = str(fields.get("copy_number") or "").strip()
        if value and not _COPY_NUMBER.match(value):
            errors.add("copy_number", "format", _("A copy number (份号) is six digits, e.g. 000001."))
        out["copy_number"] = value
    if given("agency_code") and ("agency_code" in fields):
        value = str(fields.get("agency_code") or "").strip()
        if not value:
            errors.add("agency_code", "required", _("This field is required."))
        elif not _AGENCY_CODE.match(value):
            errors.add(
                "agency_code",
                "format",
                _("The agency code (机关代字) is up to 20 Chinese characters or letters, e.g. 广区市监发."),
            )
        out["agency_code"] = value
    for name, max_length, required in (
        ("title", 200, True),
        ("body", BODY_MAX, True),
        ("mark", 60, False),
        ("issuer_name", 100, False),
        ("main_recipients", 500, False),
        ("attachments", 2000, False),
        ("note", 200, False),
        ("cc", 500, False),
        ("printing_agency", 100, False),
    ):
        if name in fields or (existing is None and required):
            out[name] = _text(errors, name, fields.get(name), max_length=max_length, required=required)
    for name in ("date", "printing_date"):
        if name in fields:
            out[name] = _date(errors, name, fields.get(name))
    errors.raise_if_any()
    return out


# --- drafting ------------------------------------------------------------------------------------


def _new_ref() -> str:
    return "GW" + secrets.token_hex(5).upper()


def _keep_version(document: Document, actor, at: dt.datetime) -> DocumentVersion:
    return DocumentVersion.objects.create(
        document=document,
        number=document.version,
        content=document.content(),
        saved_by=getattr(actor, "user", None),
        saved_at=at,
    )


def _own_department(actor) -> Department:
    staff = getattr(actor, "staff", None)
    if staff is None:
        raise NotPermitted()
    return staff.department


@use_case("documents.draft", object_type="document")
def create_draft(actor, *, department_code: str = "", **fields) -> Document:
    """A new draft in the caller's section (or `department_code`, where the caller may draft)."""
    _authenticated(actor)
    if department_code:
        department = Department.objects.select_related("parent").filter(code=department_code).first()
        if department is None:
            raise InvalidInput.single("department_code", "unknown", _("No such department."))
    else:
        department = _own_department(actor)
    if not actor.can(perms.DOCUMENT_DRAFT, department):
        raise NotPermitted()
    content = clean_content(fields)
    agency = agency_of(department)
    at = now()
    doc_type = content["doc_type"]
    document = Document(
        ref=_new_ref(),
        agency=agency,
        drafting_department=department,
        drafted_by=actor.user,
        form=FORM_OF_TYPE.get(doc_type, Form.DOCUMENT),
        mark=f"{agency.name}文件",
        agency_code=(agency.short_name or agency.name)[:18].removeprefix("区") + "发",
        issuer_name=agency.name,
        printing_agency=f"{agency.name}办公室",
        created_at=at,
        updated_at=at,
    )
    for name, value in content.items():
        if value not in (None, "") or name in ("urgency", "copy_number"):
            setattr(document, name, value)
    if doc_type == DocType.LETTER and "mark" not in fields:
        document.mark = agency.name
    _check_recipients(document)
    document.save()
    _keep_version(document, actor, at)
    from . import flow

    if flow.start_outgoing(actor, document, at):  # the agency runs drafts on the outgoing process
        document.save(update_fields=["on_flow"])
    uow = current()
    uow.audit.object_ref = document.ref
    uow.audit.department_code = department.code
    uow.event(
        KIND,
        document.ref,
        act.DRAFTED,
        at=at,
        actor=actor,
        department_code=department.code,
        detail={"doc_type": doc_type, "version": 1},
    )
    return document


def _check_recipients(document: Document) -> None:
    if not document.main_recipients and document.doc_type not in NO_RECIPIENT_TYPES:
        raise InvalidInput.single(
            "main_recipients",
            "required",
            Formatted(
                _("A %(type)s is addressed to its main recipients (主送机关)."),
                {"type": document.get_doc_type_display()},
            ),
        )


@use_case("documents.save", object_type="document")
def save_draft(actor, ref: str, *, expected_version: int | None = None, **fields) -> Document:
    """Save changes to a draft as a new version. `expected_version` is the version the editor
    started from: if someone saved in between, the save is refused instead of overwriting them."""
    document = access_document(actor, ref, lock=True)
    current().audit.object_ref = document.ref
    _require_status(document, Status.DRAFT)
    if not may_edit(actor, document):
        raise NotPermitted()
    if expected_version is not None and int(expected_version) != document.version:
        raise Conflict(
            Formatted(
                _("Someone saved version %(v)d after you opened version %(mine)d. Reload and try again."),
                {"v": document.version, "mine": int(expected_version)},
            )
        )
    content = clean_content(fields, existing=document)
    before = document.content()
    for name, value in content.items():
        setattr(document, name, value)
    _check_recipients(document)
    after = document.content()
    changed = sorted(name for name in CONTENT_FIELDS if before[name] != after[name])
    if not changed:
        return document
    at = now()
    document.version += 1
    document.updated_at = at
    document.save()
    _keep_version(document, actor, at)
    current().event(
        KIND,
        document.ref,
        act.SAVED,
        at=at,
        actor=actor,
        department_code=document.drafting_department.code,
        detail={"version": document.version, "changed": changed},
    )
    return document


# --- numbering -----------------------------------------------------------------------------------


def number_text(agency_code: str, year: int, serial: int) -> str:
    """发文字号 as GB/T 9704 7.2.5 writes it: 机关代字〔年份〕序号号 (no leading zeros)."""
    return f"{agency_code}〔{year}〕{serial}号"


def take_serial(agency_code: str, year: int) -> int:
    """The next serial of a code's year, counted in the caller's transaction (see the module doc)."""
    counter = NumberCounter.objects.select_for_update().filter(agency_code=agency_code, year=year).first()
    if counter is None:
        try:
            # The code's first number of the year: two first sign-offs racing insert once, the
            # loser's savepoint rolls back and it locks the winner's row like everyone else.
            with transaction.atomic():
                counter = NumberCounter.objects.create(agency_code=agency_code, year=year, last_serial=0)
        except IntegrityError:
            counter = NumberCounter.objects.select_for_update().get(agency_code=agency_code, year=year)
    counter.last_serial += 1
    counter.save(update_fields=["last_serial"])
    return counter.last_serial


def _check_ready(document: Document) -> None:
    """A document is signed only with what its printed form needs."""
    errors = FieldErrors()
    for name in ("title", "body", "mark", "agency_code", "issuer_name"):
        if not str(getattr(document, name) or "").strip():
            errors.add(name, "required", _("This field is required before sign-off."))
    if not document.main_recipients and document.doc_type not in NO_RECIPIENT_TYPES:
        errors.add("main_recipients", "required", _("This field is required before sign-off."))
    errors.raise_if_any()


FLOW_MESSAGE = _("This document runs on its process: act on its current step instead.")


def _refuse_on_flow(document: Document) -> None:
    if document.on_flow:
        raise Conflict(FLOW_MESSAGE)


def sign_off(document: Document, actor, at: dt.datetime) -> None:
    """签发: the leader's signature on the draft (the 签发人 of an upward document)."""
    refuse_classified("", document.title, document.body)
    _check_ready(document)
    document.status = Status.SIGNED
    document.signed_by = actor.user
    document.signed_at = at
    document.signer_names = actor.user.display_name if document.doc_type in UPWARD_TYPES else ""
    if document.date is None:
        document.date = timezone.localtime(at).date()
    document.updated_at = at


def assign_number(document: Document, at: dt.datetime) -> int:
    """编号: the next serial of the document's 机关代字 and year (see the module doc)."""
    year = timezone.localtime(at).year
    serial = take_serial(document.agency_code, year)
    document.number_year, document.number_serial = year, serial
    document.number = number_text(document.agency_code, year, serial)
    document.updated_at = at
    return serial


@use_case("documents.sign", object_type="document")
def sign(actor, ref: str, *, expected_version: int | None = None) -> Document:
    """签发 without the process (an agency with no outgoing process published): the leader signs
    the draft off and the 发文字号 is assigned in the same step."""
    document = access_document(actor, ref, lock=True)
    current().audit.object_ref = document.ref
    _require_status(document, Status.DRAFT)
    _refuse_on_flow(document)
    if not may_sign(actor, document):
        raise NotPermitted()
    if expected_version is not None and int(expected_version) != document.version:
        raise Conflict(_("The draft changed since you read it. Read it again before signing."))
    at = now()
    sign_off(document, actor, at)
    serial = assign_number(document, at)
    document.save()
    uow = current()
    uow.audit.detail = {"number": document.number}
    uow.event(
        KIND,
        document.ref,
        act.SIGNED,
        at=at,
        actor=actor,
        department_code=document.agency.code,
        detail={
            "number": document.number,
            "serial": serial,
            "year": document.number_year,
            "version": document.version,
        },
    )
    return document


@use_case("documents.void_number", object_type="document")
def void_number(actor, ref: str, *, reason: str) -> Document:
    """Withdraw a signed document before it is sealed or issued: its number is voided and recorded
    (never reused), and the document is a draft again, to be signed and numbered anew."""
    document = access_document(actor, ref, lock=True)
    current().audit.object_ref = document.ref
    _require_status(document, Status.SIGNED)
    _refuse_on_flow(document)
    if not may_void(actor, document):
        raise NotPermitted()
    errors = FieldErrors()
    reason = errors.require_text("reason", reason, max_length=REASON_MAX)
    errors.raise_if_any()
    at = now()
    number = document.number
    NumberVoid.objects.create(
        agency_code=document.agency_code,
        year=document.number_year,
        serial=document.number_serial,
        number=number,
        document=document,
        reason=reason,
        voided_by=actor.user,
        voided_at=at,
    )
    document.number_year = document.number_serial = None
    document.number = ""
    document.status = Status.DRAFT
    document.signed_by = None
    document.signed_at = None
    document.signer_names = ""
    document.updated_at = at
    document.save()
    current().event(
        KIND,
        document.ref,
        act.NUMBER_VOIDED,
        at=at,
        actor=actor,
        department_code=document.agency.code,
        detail={"number": number, "reason": reason},
    )
    return document


@dataclass(frozen=True)
class LedgerLine:
    serial: int
    number: str
    state: str  # "used", "void" or "missing"
    ref: str = ""


def number_ledger(actor, agency_code: str, year: int) -> list[LedgerLine]:
    """Every serial of a code's year up to its counter: used by a document, voided, or missing (which
    should never happen, and this ledger is how an auditor would see that it did)."""
    _authenticated(actor)
    if not (
        getattr(actor, "is_system", False) or actor.can(perms.DOCUMENT_VIEW) or actor.can(perms.DOCUMENT_SIGN)
    ):
        raise NotPermitted()
    used = dict(
        Document.objects.filter(
            agency_code=agency_code, number_year=year, number_serial__isnull=False
        ).values_list("number_serial", "ref")
    )
    # Every serial is listed (a gap is what the ledger is for); only references the caller may see.
    visible = set(documents(actor).filter(ref__in=used.values()).values_list("ref", flat=True))
    voids = {v.serial: v.number for v in NumberVoid.objects.filter(agency_code=agency_code, year=year)}
    counter = NumberCounter.objects.filter(agency_code=agency_code, year=year).first()
    last = counter.last_serial if counter else 0
    lines = []
    for serial in range(1, last + 1):
        if serial in used:
            ref = used[serial] if used[serial] in visible else ""
            lines.append(LedgerLine(serial, number_text(agency_code, year, serial), "used", ref))
        elif serial in voids:
            lines.append(LedgerLine(serial, voids[serial], "void"))
        else:
            lines.append(LedgerLine(serial, number_text(agency_code, year, serial), "missing"))
    return lines


# --- issue and archive ---------------------------------------------------------------------------


@use_case("documents.issue", object_type="document")
def issue(actor, ref: str) -> Document:
    """印发: the signed (and, where sealed, sealed) document goes out; printing date set."""
    document = access_document(actor, ref, lock=True)
    current().audit.object_ref = document.ref
    _require_status(document, Status.SIGNED, Status.SEALED)
    _refuse_on_flow(document)
    if not may_issue(actor, document):
        raise NotPermitted()
    return do_issue(document, actor, now())


def do_issue(document: Document, actor, at: dt.datetime) -> Document:
    if not document.number:
        raise Conflict(_("The document has no 发文字号 yet."))
    document.status = Status.ISSUED
    document.issued_at = at
    if document.printing_date is None:
        document.printing_date = timezone.localtime(at).date()
    document.updated_at = at
    document.save()
    current().event(KIND, document.ref, act.ISSUED, at=at, actor=actor, department_code=document.agency.code)
    return document


@use_case("documents.archive", object_type="document")
def archive(actor, ref: str, *, retention: str = "") -> Document:
    """归档: the issued document is closed for good; every later change is refused."""
    document = access_document(actor, ref, lock=True)
    current().audit.object_ref = document.ref
    _require_status(document, Status.ISSUED)
    _refuse_on_flow(document)
    if not may_archive(actor, document):
        raise NotPermitted()
    return do_archive(document, actor, now(), retention=retention)


def clean_retention(value, *, field: str = "retention") -> str:
    value = str(value or "").strip()
    if value not in Retention.values:
        raise InvalidInput.single(field, "choice", _("Choose one of the allowed values."))
    return value


def retention_end(document: Document, retention: str) -> dt.date | None:
    """The first day a record may be disposed of: retention counts from 1 January of the year after
    the document was made (its 成文日期, else the day it was archived); None when kept for good."""
    if retention == Retention.PERMANENT:
        return None
    made = document.date or timezone.localtime(document.archived_at or now()).date()
    return dt.date(made.year + 1 + int(retention), 1, 1)


def do_archive(document: Document, actor, at: dt.datetime, *, retention: str = "") -> Document:
    retention = clean_retention(retention) if retention else RETENTION_OF_TYPE[document.doc_type]
    document.status = Status.ARCHIVED
    document.archived_at = at
    document.updated_at = at
    document.retention = retention
    document.retention_until = retention_end(document, retention)
    document.save()
    current().event(
        KIND,
        document.ref,
        act.ARCHIVED,
        at=at,
        actor=actor,
        department_code=document.agency.code,
        detail={
            "retention": retention,
            "until": document.retention_until.isoformat() if document.retention_until else None,
        },
    )
    from . import search

    search.index_document(document)
    return document


# --- the archive: retention and disposal ----------------------------------------------------------

_LONGER = {Retention.YEARS_10: 1, Retention.YEARS_30: 2, Retention.PERMANENT: 3}


def may_dispose(actor, document: Document) -> bool:
    """Disposal of a record is decided by the leader of its agency (document.sign)."""
    return (
        document.status == Status.ARCHIVED
        and document.retention_until is not None
        and document.retention_until <= today()
        and bool(actor.can(perms.DOCUMENT_SIGN, document.agency))
    )


def archived(
    actor,
    *,
    doc_type: str = "",
    retention: str = "",
    year: int | str | None = None,
    agency_code: str = "",
    number: str = "",
    due: bool = False,
) -> QuerySet:
    """The archive: archived documents the caller may read, with its filters; `due` lists those
    whose retention has ended (the disposal list, 到期鉴定)."""
    errors = FieldErrors()
    if doc_type and doc_type not in DocType.values:
        errors.add("doc_type", "choice", _("Choose one of the allowed values."))
    if retention and retention not in Retention.values:
        errors.add("retention", "choice", _("Choose one of the allowed values."))
    from .search import clean_year

    year_value = clean_year(errors, year)
    number = str(number or "").strip()
    if len(number) > 40:
        errors.add("number", "max_length", Formatted(_("At most %(n)d characters."), {"n": 40}))
    errors.raise_if_any()
    rows = documents(actor).filter(status=Status.ARCHIVED)
    if doc_type:
        rows = rows.filter(doc_type=doc_type)
    if retention:
        rows = rows.filter(retention=retention)
    if year_value:
        rows = rows.filter(date__year=year_value)
    if agency_code:
        rows = rows.filter(agency__code=agency_code)
    if number:
        rows = rows.filter(number__icontains=number)
    if due:
        rows = rows.filter(retention_until__lte=today())
    return rows.order_by("-archived_at", "-id")


def disposals(actor) -> QuerySet:
    """The disposal register (鉴定处置记录 and 销毁清册) of the agencies the caller may read."""
    _authenticated(actor)
    visible = documents(actor).values("pk")
    return Disposal.objects.select_related("document", "decided_by").filter(document__in=visible)


@use_case("documents.dispose", object_type="document")
def dispose(actor, ref: str, *, decision: str, reason: str, new_retention: str = "") -> Disposal:
    """鉴定处置 of a record whose retention has ended: keep it longer, or destroy it. Destroying
    erases the text, the versions and the sealed files, and keeps the register entry (number,
    title, type, date, retention, SM3 of what was destroyed); nothing disappears unrecorded."""
    document = access_document(actor, ref, lock=True, archived_ok=True)
    current().audit.object_ref = document.ref
    _require_status(document, Status.ARCHIVED)
    if not actor.can(perms.DOCUMENT_SIGN, document.agency):
        raise NotPermitted()
    if document.retention_until is None or document.retention_until > today():
        raise Conflict(_("The retention period of this record has not ended: it cannot be disposed of yet."))
    errors = FieldErrors()
    if decision not in DisposalDecision.values:
        errors.add("decision", "choice", _("Choose one of the allowed values."))
    reason = errors.require_text("reason", reason, max_length=REASON_MAX)
    if decision == DisposalDecision.EXTEND:
        if str(new_retention or "") not in Retention.values:
            errors.add("new_retention", "choice", _("Choose one of the allowed values."))
        elif _LONGER[new_retention] <= _LONGER[document.retention]:
            errors.add("new_retention", "shorter", _("Choose a longer retention than the current one."))
    errors.raise_if_any()
    at = now()
    record = Disposal(
        document=document,
        decision=decision,
        reason=reason,
        number=document.number,
        title=document.title,
        doc_type=document.doc_type,
        date=document.date,
        retention=document.retention,
        decided_by=actor.user,
        decided_at=at,
    )
    from . import search

    if decision == DisposalDecision.EXTEND:
        record.new_retention = new_retention
        document.retention = new_retention
        document.retention_until = retention_end(document, new_retention)
    else:
        record.content_digest = _erase(document)
        document.status = Status.DISPOSED
    document.updated_at = at
    document.save()
    record.save()
    if document.status == Status.DISPOSED:
        search.remove_document(document)
    else:
        search.index_document(document)
    uow = current()
    uow.audit.detail = {"decision": decision, "reason": reason, "digest": record.content_digest}
    uow.event(
        KIND,
        document.ref,
        act.DISPOSED,
        at=at,
        actor=actor,
        department_code=document.agency.code,
        detail={"decision": decision, "reason": reason, "retention": document.retention},
    )
    return record


def _erase(document: Document) -> str:
    """Destroy a record's content; returns the SM3 of what was destroyed (for the register)."""
    import json

    from tongban.core.crypto import sm3_hex

    versions = list(document.versions.order_by("number").values_list("content", flat=True))
    sealing = Sealing.objects.filter(document=document).first()
    digest = sm3_hex(
        json.dumps([document.content(), versions], ensure_ascii=False, sort_keys=True).encode("utf-8")
        + (bytes(sealing.pdf) if sealing else b"")
    )
    document.body = ""
    document.attachments = ""
    document.note = ""
    document.versions.update(content={})
    if sealing is not None:
        sealing.pdf = b""
        sealing.ofd = None
        sealing.save(update_fields=["pdf", "ofd"])
    return digest


# --- versions and differences --------------------------------------------------------------------


def versions(actor, ref: str) -> list[DocumentVersion]:
    document = access_document(actor, ref)
    return list(document.versions.select_related("saved_by").order_by("number"))


@dataclass(frozen=True)
class Change:
    field: str
    op: str  # "equal", "insert", "delete"
    text: str


def _words(text: str) -> list[str]:
    """Chinese at word level (jieba), other scripts by runs of letters and digits."""
    import jieba

    return list(jieba.cut(text or "", HMM=False))


def diff(actor, ref: str, old: int, new: int) -> list[Change]:
    """What changed from version `old` to `new`, field by field, word by word."""
    document = access_document(actor, ref)
    rows = {v.number: v for v in document.versions.filter(number__in=[old, new])}
    missing = [n for n in (old, new) if n not in rows]
    if missing:
        raise InvalidInput.single(
            "version", "unknown", Formatted(_("There is no version %(n)s."), {"n": missing[0]})
        )
    a, b = rows[old].content, rows[new].content
    changes: list[Change] = []
    for name in CONTENT_FIELDS:
        before, after = str(a.get(name) or ""), str(b.get(name) or "")
        if before == after:
            continue
        left, right = _words(before), _words(after)
        matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                changes.append(Change(name, "equal", "".join(left[i1:i2])))
                continue
            if i2 > i1:
                changes.append(Change(name, "delete", "".join(left[i1:i2])))
            if j2 > j1:
                changes.append(Change(name, "insert", "".join(right[j1:j2])))
    return changes


# --- output --------------------------------------------------------------------------------------


DISPOSED_MESSAGE = _("This record was destroyed when its retention ended; only its register entry remains.")


def _readable_file(actor, ref: str) -> Document:
    """The document whose files are asked for; a destroyed record has none left."""
    document = access_document(actor, ref)
    if document.status == Status.DISPOSED:
        raise Conflict(DISPOSED_MESSAGE)
    return document


def pdf(actor, ref: str) -> bytes:
    """The document as a GB/T 9704 PDF, for whoever may read it."""
    from . import render

    document = _readable_file(actor, ref)
    return render.render_pdf(document).pdf


# --- e-seals (电子签章) ----------------------------------------------------------------------------

SEAL_VALID_YEARS = 5
VERIFY_MAX_BYTES = 30 * 1024 * 1024
_SEAL_CODE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


def _seal_key(seal: Seal):
    from tongban.core import sm2

    from . import seal as seals

    return seals.SealKey(
        code=seal.code,
        name=seal.name,
        picture_png=bytes(seal.picture),
        key=sm2.KeyPair(seal.key_id, seal.public_key, seal.private_key_ciphertext),
        created=seal.created_at,
        valid_until=seal.valid_until,
    )


@use_case("documents.seal_create", object_type="seal")
def create_seal(
    actor, *, agency_code: str, code: str, name: str = "", holders: list[str] | tuple = ()
) -> Seal:
    """A new e-seal for an agency, with its own SM2 key and a picture made from its name; held by
    the named staff of that agency (an administrator of the agency's organisation creates it)."""
    from tongban.accounts.models import User
    from tongban.core import sm2

    from . import seal as seals

    _authenticated(actor)
    errors = FieldErrors()
    agency = Department.objects.filter(code=str(agency_code or "")).first()
    if agency is None:
        errors.add("agency_code", "unknown", _("No such department."))
    code = str(code or "").strip()
    if not _SEAL_CODE.match(code):
        errors.add(
            "code", "format", _("A seal code is 1 to 40 letters, digits, dots, dashes or underscores.")
        )
    elif Seal.objects.filter(code=code).exists():
        errors.add("code", "taken", _("This seal code is taken."))
    name = _text(errors, "name", name or (agency.name if agency else ""), max_length=40, required=True)
    people = list(User.objects.filter(username__in=list(holders or [])))
    unknown = sorted(set(holders or []) - {u.username for u in people})
    if unknown:
        errors.add(
            "holders",
            "unknown",
            Formatted(_("No such staff member: %(names)s."), {"names": ", ".join(unknown)}),
        )
    errors.raise_if_any()
    if not actor.can(perms.ORG_MANAGE, agency):
        raise NotPermitted()
    outside = [
        u.username for u in people if not (hasattr(u, "staff") and agency.contains(u.staff.department))
    ]
    if outside:
        raise InvalidInput.single(
            "holders",
            "outside",
            Formatted(
                _("Only staff of the agency may hold its seal: %(names)s."), {"names": ", ".join(outside)}
            ),
        )
    at = now()
    pair = sm2.generate()
    seal = Seal.objects.create(
        code=code,
        agency=agency,
        name=name,
        picture=seals.picture(name),
        key_id=pair.key_id,
        public_key=pair.public_key,
        private_key_ciphertext=pair.private_key_ciphertext,
        created_at=at,
        valid_until=at + dt.timedelta(days=365 * SEAL_VALID_YEARS),
    )
    seal.holders.set(people)
    uow = current()
    uow.audit.object_ref = seal.code
    uow.audit.department_code = agency.code
    uow.audit.detail = {"key_id": pair.key_id, "holders": sorted(u.username for u in people)}
    return seal


def seals_held(actor, document: Document) -> list[Seal]:
    """The seals the caller holds that may seal this document (its agency's, active, in date)."""
    user = getattr(actor, "user", None)
    if user is None:
        return []
    return list(
        Seal.objects.filter(agency=document.agency, holders=user, is_active=True, valid_until__gt=now())
    )


def may_seal(actor, document: Document) -> bool:
    return (
        document.status == Status.SIGNED
        and bool(document.number)
        and not document.on_flow
        and bool(seals_held(actor, document))
    )


@use_case("documents.seal", object_type="document")
def seal_document(actor, ref: str, *, seal_code: str) -> Document:
    """用印: the signed document is rendered with the seal's picture over its 署名 and 日期, and the
    PDF is signed (GB/T 38540-shaped, SM2 over the SM3 of the file); the sealed file is kept."""
    document = access_document(actor, ref, lock=True)
    current().audit.object_ref = document.ref
    _require_status(document, Status.SIGNED)
    _refuse_on_flow(document)
    return do_seal(document, actor, seal_code, now())


def do_seal(document: Document, actor, seal_code: str, at: dt.datetime) -> Document:
    from . import render
    from . import seal as seals

    if not document.number:
        raise Conflict(_("The document has no 发文字号 yet: number it before sealing."))
    seal = Seal.objects.filter(code=str(seal_code or "")).first()
    if seal is None:
        raise InvalidInput.single("seal_code", "unknown", _("No such seal."))
    if seal not in seals_held(actor, document):
        raise NotPermitted(_("You do not hold this seal, or it may not seal this agency's documents."))
    rendered = render.render_pdf(document, seal_image=bytes(seal.picture))
    key = _seal_key(seal)
    digests: list[bytes] = []

    def sign_digest(digest: bytes) -> bytes:
        digests.append(digest)
        return seals.sign(key, digest, at=at, signer=actor.user.display_name, document_ref=document.ref)

    sealed = seals.embed(rendered.pdf, sign_digest, room=len(seal.picture) + seals.SIGNATURE_ROOM)
    # The same seal on the OFD (GB/T 33190 chapter 18): its own SES_Signature over its Signature.xml.
    from . import ofd

    sealed_ofd = ofd.render_ofd(
        document,
        seal_image=bytes(seal.picture),
        at=at,
        sign_digest=lambda digest: seals.sign(
            key, digest, at=at, signer=actor.user.display_name, document_ref=document.ref
        ),
    )
    Sealing.objects.create(
        document=document,
        seal=seal,
        sealed_by=actor.user,
        sealed_at=at,
        digest=digests[0].hex(),
        pdf=sealed,
        ofd=sealed_ofd,
    )
    document.status = Status.SEALED
    document.updated_at = at
    document.save()
    uow = current()
    uow.audit.detail = {"seal": seal.code, "digest": digests[0].hex()}
    uow.event(
        KIND,
        document.ref,
        act.SEALED,
        at=at,
        actor=actor,
        department_code=document.agency.code,
        detail={"seal": seal.code, "digest": digests[0].hex()},
    )
    return document


def sealed_pdf(actor, ref: str) -> bytes:
    """The sealed file exactly as it was signed."""
    document = _readable_file(actor, ref)
    sealing = Sealing.objects.filter(document=document).first()
    if sealing is None:
        raise Conflict(_("This document has not been sealed."))
    return bytes(sealing.pdf)


@dataclass(frozen=True)
class Verification:
    valid: bool
    status: str  # valid, changed, signature, seal, unknown_seal, unsealed, malformed, algorithm
    message: object
    seal_code: str = ""
    seal_name: str = ""
    agency: str = ""
    signer: str = ""
    sealed_at: dt.datetime | None = None
    document_ref: str = ""
    number: str = ""
    title: str = ""
    digest: str = ""


VERIFY_MESSAGES = {
    "valid": _("Valid: the file is exactly as it was sealed, by a seal registered here."),
    "changed": _("Invalid: the file was changed after it was sealed."),
    "signature": _("Invalid: the signature does not match the file."),
    "seal": _("Invalid: the seal inside the signature is not intact."),
    "algorithm": _("Invalid: the signature uses an algorithm this platform does not accept."),
    "unknown_seal": _("Invalid: the seal is not one registered on this platform, or its key differs."),
    "unsealed": _("This file carries no e-seal."),
    "malformed": _("Invalid: the seal signature in this file cannot be read."),
}


def verify_file(actor, data: bytes) -> Verification:
    """Who sealed this file, with which seal and when, and whether any byte of it changed since."""
    from . import seal as seals

    _authenticated(actor)
    if not isinstance(data, bytes | bytearray) or not data:
        raise InvalidInput.single("file", "required", _("Choose a file."))
    if len(data) > VERIFY_MAX_BYTES:
        raise InvalidInput.single("file", "too_large", _("The file is larger than 30 MB."))
    if bytes(data[:4]) == b"PK\x03\x04":  # a ZIP package: OFD
        from . import ofd

        reading = ofd.verify(bytes(data))
    elif bytes(data[:5]) == b"%PDF-":
        reading = seals.read(bytes(data))
    else:
        raise InvalidInput.single("file", "type", _("This is neither a PDF nor an OFD file."))
    status = reading.reason
    seal = None
    if reading.intact:
        seal = Seal.objects.select_related("agency").filter(code=reading.seal_code).first()
        if seal is None or seal.public_key != reading.public_key:
            status = "unknown_seal"
    document = Document.objects.filter(ref=reading.document_ref).first() if reading.document_ref else None
    return Verification(
        valid=status == "valid",
        status=status,
        message=VERIFY_MESSAGES[status],
        seal_code=reading.seal_code,
        seal_name=reading.seal_name,
        agency=seal.agency.name if seal else "",
        signer=reading.signer,
        sealed_at=reading.signed_at,
        document_ref=reading.document_ref,
        number=document.number if document and status == "valid" else "",
        title=document.title if document and status == "valid" else "",
        digest=reading.digest,
    )


def ofd_file(actor, ref: str) -> bytes:
    """The document as OFD (GB/T 33190): the sealed file once sealed, else laid out now."""
    from . import ofd

    document = _readable_file(actor, ref)
    sealing = Sealing.objects.filter(document=document).first()
    if sealing is not None and sealing.ofd:
        return bytes(sealing.ofd)
    return ofd.render_ofd(document)


def docx(actor, ref: str) -> bytes:
    """The document as DOCX, for agencies that edit in WPS or Word."""
    from . import docx_out

    return docx_out.render_docx(_readable_file(actor, ref))
