"""What the case services share: domain events, access checks, what a case is filed under, form
and upload checks, the clock, and messages to the applicant."""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts import roles as perms
from tongban.accounts import services as account_services
from tongban.accounts.models import Department, Enterprise, Person
from tongban.catalog import services as catalog
from tongban.catalog.models import BundleVersion, ItemVersion
from tongban.core import calendar, crypto, files, sms, sql
from tongban.core import events as event_log
from tongban.core.errors import Conflict, FieldErrors, Formatted, InvalidInput, NotFound
from tongban.core.identifiers import normalize_id_number, normalize_mobile, normalize_uscc
from tongban.workflow import builder
from tongban.workflow import services as workflow
from tongban.workflow import store as store_wf
from tongban.workflow.models import ProcessDefinition, WorkItem

from .. import signals, store
from ..activities import KIND
from ..models import (
    Case,
    CaseStatus,
)

# --- events --------------------------------------------------------------------------------------

log = logging.getLogger(__name__)


def _event(
    case,
    activity: str,
    actor,
    *,
    now,
    department: str = "",
    work_item=None,
    detail=None,
    lifecycle: str = "complete",
) -> event_log.Event:
    """A domain event of a case (a Case, or the lean row the hot path works with), checked against
    the activities cases registered (cases/activities.py)."""
    return event_log.make(
        KIND,
        case.number,
        activity,
        at=now,
        actor=actor,
        department_code=department or store_wf.department_code(case.department_id),
        channel=case.channel,
        work_item=work_item,
        lifecycle=lifecycle,
        detail=detail,
    )


def _filed_under(target) -> dict:
    """What a case is filed under, on its submission event: readers of the log (insight's process
    map of one item) learn it there instead of from the case tables."""
    if target.item:
        return {"item": target.item.item.code, "item_version": target.item.pk}
    return {"bundle": target.bundle.bundle.code, "bundle_version": target.bundle.pk}


def _record(made: list[event_log.Event]) -> None:
    """Append to the core event log, in the caller's transaction."""
    event_log.write(made)


# --- access -------------------------------------------------------------------------------------


def _involves(actor, case) -> bool:
    """Staff whose scope covers the case's department or a department it has work in."""
    if actor.can(perms.CASE_VIEW, _DepartmentPath(store_wf.department_by_id(case.department_id)[1])):
        return True
    paths = WorkItem.objects.filter(subject=case.number).values_list("department_path", flat=True).distinct()
    return any(actor.can(perms.CASE_VIEW, _DepartmentPath(path)) for path in paths if path)


class _DepartmentPath:
    """A department as scope checks see it: its tree path (work items carry the path, not the row)."""

    def __init__(self, path: str):
        self.path = path


def can_see(actor, case) -> bool:
    """For a Case or a case row: the applicant, representatives of its enterprise, clerks, involved staff."""
    person = getattr(actor, "person", None)
    if person is not None and (
        case.applicant_id == person.pk
        or (case.enterprise_id and account_services.can_act_for(actor, Enterprise(pk=case.enterprise_id)))
    ):
        return True
    if not getattr(actor, "is_authenticated", False) or getattr(actor, "is_citizen", False):
        return False
    return actor.can(perms.CASE_ACCEPT) or _involves(actor, case)


def _access_row(actor, number: str, *, lock: bool = False) -> store.CaseRow:
    """The lean case row for the hot paths, after the same check as access_case."""
    case = store.lock_case(number) if lock else store.read_case(number)
    if case is None or not can_see(actor, case):
        raise NotFound()
    return case


def access_case(actor, number: str, *, for_update: bool = False) -> Case:
    """The case with what every page of it shows (department, applicant, enterprise, item)."""
    if for_update:
        case = (
            Case.objects.select_related(
                "department", "applicant", "enterprise", "item_version__item", "bundle_version__bundle"
            )
            .select_for_update(of=("self",))
            .filter(number=number)
            .first()
        )
    else:
        # Read on every case page: plain SQL and cached immutable parts, no ORM query compiler.
        found = sql.models(Case, "number = %s", [number])
        case = found[0] if found else None
        if case is not None:
            _attach_parts(case)
    if case is None or not can_see(actor, case):
        raise NotFound()
    return case


def _attach_parts(case: Case) -> None:
    case.department = department_object(case.department_id)
    if case.item_version_id:
        case.item_version = _cached_target("item", case.item_version_id).item
    if case.bundle_version_id:
        case.bundle_version = _cached_target("bundle", case.bundle_version_id).bundle
    case.applicant = sql.models(Person, "id = %s", [case.applicant_id])[0]
    if case.enterprise_id:
        case.enterprise = sql.models(Enterprise, "id = %s", [case.enterprise_id])[0]


_department_objects: dict[int, tuple[int, Department]] = {}


def department_object(department_id: int) -> Department:
    """A department by id, cached per process; any change to a department bumps the authority stamp."""
    from tongban.accounts.actors import authority_version

    version = authority_version()
    cached = _department_objects.get(department_id)
    if cached is None or cached[0] != version:
        found = sql.models(Department, "id = %s", [department_id])
        cached = _department_objects[department_id] = (version, found[0])
    return cached[1]


def list_my_cases(actor):
    person = getattr(actor, "person", None)
    if person is None:
        return Case.objects.none()
    enterprises = [e.pk for e, _link in account_services.my_enterprises(actor)]
    return Case.objects.filter(Q(applicant=person) | Q(enterprise_id__in=enterprises)).select_related(
        "department"
    )


# --- what is applied for ------------------------------------------------------------------------


class _Target:
    """An item version or a bundle version, seen through what a case needs of either.

    Published versions never change, so a target is built once per process (see `_target`).
    """

    def __init__(self, item: ItemVersion | None = None, bundle: BundleVersion | None = None):
        self.item, self.bundle = item, bundle
        self._cache: dict = {}

    def _once(self, name, compute):
        if name not in self._cache:
            self._cache[name] = compute()
        return self._cache[name]

    @property
    def title(self) -> str:
        return (self.item or self.bundle).name

    @property
    def department(self) -> Department:
        return self.item.item.department if self.item else self.bundle.bundle.lead_department

    @property
    def limit_days(self) -> int | None:
        return self.item.promised_limit_days if self.item else self.bundle.promised_limit_days

    def form_fields(self) -> list[dict]:
        return self.item.form_fields if self.item else catalog.merged_form(self.bundle).fields

    def materials(self) -> list[dict]:
        def compute():
            if self.item:
                return [
                    {
                        "name": m.name,
                        "required": m.required,
                        "core": m.core,
                        "licence_type": m.licence_type,
                        "data_query": m.data_query,
                    }
                    for m in self.item.materials.all()
                ]
            return catalog.merged_form(self.bundle).materials

        return self._once("materials", compute)

    @property
    def commitment_allowed(self) -> bool:
        return bool(self.item and self.item.commitment_allowed)

    @property
    def accepts_with_gaps(self) -> bool:
        if self.item:
            return self.item.accepts_with_gaps
        return self._once(
            "gaps",
            lambda: all(
                m.item_version.accepts_with_gaps for m in self.bundle.members.select_related("item_version")
            ),
        )

    def process(self) -> ProcessDefinition:
        return ensure_process(self)


_targets: dict[tuple[str, int], _Target] = {}


def clear_caches() -> None:
    _targets.clear()
    _department_objects.clear()


def _target(item_code: str = "", bundle_code: str = "") -> _Target:
    if bool(item_code) == bool(bundle_code):
        raise InvalidInput.single("item_code", "required", _("Apply for one item or one bundle."))
    kind = "item" if item_code else "bundle"
    version_id = store.published_version(kind, item_code or bundle_code)
    if version_id is None:
        raise NotFound()
    target = _cached_target(kind, version_id)
    if target.item and target.item.promised_limit_days is None:
        raise InvalidInput.single(
            "item_code", "incomplete", _("This item's guide is incomplete: apply at a window for now.")
        )
    return target


def _cached_target(kind: str, version_id: int) -> _Target:
    target = _targets.get((kind, version_id))
    if target is None:
        if kind == "item":
            version = ItemVersion.objects.select_related("item__department__region").get(pk=version_id)
            target = _Target(item=version)
        else:
            version = BundleVersion.objects.select_related("bundle__lead_department__region").get(
                pk=version_id
            )
            target = _Target(bundle=version)
        _targets[(kind, version_id)] = target
    return target


def process_key(case) -> str:
    """The process key of what a case was filed under ("item:<code>" or "bundle:<code>")."""
    target = _target_of(case)
    if target.item:
        return builder.item_key(target.item.item.code)
    return builder.bundle_key(target.bundle.bundle.code)


def _target_of(case) -> _Target:
    """What a case was filed under: the pinned version, not whatever is published today."""
    if case.item_version_id:
        return _cached_target("item", case.item_version_id)
    return _cached_target("bundle", case.bundle_version_id)


def ensure_process(target: _Target) -> ProcessDefinition:
    """The published process of an item or bundle; the standard one is written the first time."""
    from tongban.core.authz import SYSTEM

    if target.item:
        item = target.item.item
        key = builder.item_key(item.code)
        existing = workflow.published_definition(key)
        if existing:
            return existing
        xml = builder.item_process(
            item.code, target.item.name, item.department.code, target.item.promised_limit_days
        )
        return workflow.publish_definition(SYSTEM, key=key, bpmn_xml=xml, department=item.department)
    bundle = target.bundle.bundle
    key = builder.bundle_key(bundle.code)
    existing = workflow.published_definition(key)
    if existing:
        return existing
    members = list(target.bundle.members.select_related("item_version__item__department"))
    for member in members:
        ensure_process(_Target(item=member.item_version))
    xml = builder.bundle_process(
        bundle.code, target.bundle.name, [(m.item_version.item.code, m.item_version.name) for m in members]
    )
    return workflow.publish_definition(SYSTEM, key=key, bpmn_xml=xml, department=bundle.lead_department)


_FIELD_NORMALIZERS = {"id_number": normalize_id_number, "uscc": normalize_uscc, "phone": normalize_mobile}


def clean_form(fields: list[dict], data: dict) -> dict:
    """Check a filled form against its fields: required, type, options. Every problem is reported."""
    if not isinstance(data, dict):
        raise InvalidInput.single("data", "invalid", _("The form must be an object of field values."))
    errors = FieldErrors()
    cleaned = {}
    known = {f["key"] for f in fields}
    for name in sorted(set(data) - known):
        errors.add(f"data.{name}", "unknown", _("Unknown field."))
    for spec in fields:
        key, kind = spec["key"], spec.get("type", "text")
        value = data.get(key)
        if value in (None, "", []):
            if spec.get("required"):
                errors.add(f"data.{key}", "required", _("This field is required."))
            continue
        name = f"data.{key}"
        if kind in _FIELD_NORMALIZERS:
            value = errors.check(name, _FIELD_NORMALIZERS[kind], value)
        elif kind == "number":
            try:
                value = float(value)
            except (TypeError, ValueError):
                errors.add(name, "number", _("Enter a number."))
        elif kind == "date":
            try:
                value = dt.date.fromisoformat(str(value)).isoformat()
            except ValueError:
                errors.add(name, "date", _("Enter a date as YYYY-MM-DD."))
        elif kind == "select":
            if value not in spec.get("options", []):
                errors.add(name, "choice", _("Choose one of the allowed values."))
        elif kind == "checkbox":
            value = bool(value)
        else:
            value = str(value).strip()
            if len(value) > 2000:
                errors.add(name, "max_length", _("The value is too long."))
        cleaned[key] = value
    errors.raise_if_any()
    return cleaned


CASE_NUMBER_DIGITS = 6  # after region (6) and date (8): 20 characters, the public format


def _new_number(department: Department, now) -> str:
    """办件编号: region + local date + six digits of the region's day, unique and uninformative.

    The digits are the day's serial through the day's keyed permutation: no two cases of a day can
    share them (a random draw did, ~1 % of applications on a day of 10,000), yet a number reveals
    neither how many cases the day had nor its neighbours' numbers.
    """
    region = department.region_id[:6]
    day = timezone.localtime(now).date()
    serial, key = store.take_case_serial(region, day)
    capacity = 10**CASE_NUMBER_DIGITS
    if serial > capacity:
        raise Conflict(
            Formatted(
                _("This region has numbered %(count)s cases today, all there are; apply again tomorrow."),
                {"count": f"{capacity:,}"},
            )
        )
    digits = crypto.permute_digits(serial - 1, CASE_NUMBER_DIGITS, key)
    return f"{region}{day:%Y%m%d}{digits:0{CASE_NUMBER_DIGITS}d}"


# --- uploads ------------------------------------------------------------------------------------


def _check_uploads(target: _Target, files: dict) -> list[tuple[str, str, bytes]]:
    """Every uploaded file is checked before anything is written; problems name the material."""
    if not isinstance(files, dict):
        raise InvalidInput.single("files", "invalid", _("Attach files per material."))
    known = {m["name"] for m in target.materials()}
    errors = FieldErrors()
    batch = []
    for name, upload in files.items():
        if name not in known:
            errors.add(f"files.{name}", "unknown", _("This item asks for no material of that name."))
            continue
        file_name, content = upload
        batch.append((name, file_name, content))
    errors.collect(lambda: _inspect_batch(batch))
    errors.raise_if_any()
    return batch


def _inspect_batch(batch: list[tuple[str, str, bytes]]) -> None:
    try:
        files.check_batch(
            [(file_name, content) for _name, file_name, content in batch],
            max_files=settings.TONGBAN_UPLOAD_MAX_FILES,
            max_bytes=settings.TONGBAN_UPLOAD_MAX_BYTES,
            max_total_bytes=settings.TONGBAN_UPLOAD_MAX_TOTAL_BYTES,
        )
    except InvalidInput as exc:
        # Name the material, not the position in the upload.
        renamed = {}
        for field_name, problems in exc.fields.items():
            if field_name.startswith("files[") and field_name.endswith("]"):
                index = int(field_name[6:-1])
                field_name = f"files.{batch[index][0]}"
            renamed.setdefault(field_name, []).extend(problems)
        raise InvalidInput(renamed) from exc


def _store_uploads(batch: list[tuple[str, str, bytes]], *, context: str = "") -> dict[str, dict]:
    """Checked uploads written to the file store: {material: file_ref, file_kind, file_name,
    file_size}, under the materials' context unless another is given (a draft's own)."""
    stored = {}
    for name, file_name, content in batch:
        inspected = files.inspect_upload(file_name, content, max_bytes=settings.TONGBAN_UPLOAD_MAX_BYTES)
        ref = files.store(content, context=context or MATERIAL_CONTEXT)
        stored[name] = {
            "file_ref": ref.ref,
            "file_kind": inspected.kind,
            "file_name": inspected.name,
            "file_size": inspected.size,
        }
    return stored


MATERIAL_CONTEXT = "cases.material"


def _work_events(case, result: workflow.StepResult, actor, now) -> list[event_log.Event]:
    events = []
    for work in result.created:
        events.append(
            _event(
                case,
                f"work:{work.name}",
                None,
                now=now,
                lifecycle="start",
                department=work.department_code,
                work_item=work.public_id,
                detail={"node": work.node_id, "role": work.role},
            )
        )
    # The messages the processes sent: other systems read those no process of the case took.
    for node_id, trigger, delivered in result.sent:
        if trigger.startswith("message:"):
            detail = {"message": trigger.split(":", 1)[1], "node": node_id, "delivered": delivered}
            events.append(_event(case, "case.message_sent", None, now=now, detail=detail))
    return events


def _decide(case, actor, now, changes: dict) -> event_log.Event:
    """The process has ended: the decision is the last one taken, or a rejection by any member of a bundle.

    Adds the case's changes to `changes` and returns the event, for the caller to write with its own.
    """
    decisions = store_wf.completed_decisions(case.number)
    decision = "reject" if "reject" in decisions or case.data.get("decision") == "reject" else "approve"
    changes.update(decision=decision, status=CaseStatus.DECIDED, decided_at=now)
    case.status, case.decision = CaseStatus.DECIDED, decision
    return _event(case, "case.decided", actor, now=now, detail={"decision": decision})


def _is_applicant(actor, case) -> bool:
    person = getattr(actor, "person", None)
    return person is not None and (
        case.applicant_id == person.pk
        or bool(case.enterprise_id and account_services.can_act_for(actor, Enterprise(pk=case.enterprise_id)))
    )


# --- the clock: pauses for 补正 and special procedures ------------------------------------------------


def _stop_clock(case, now) -> dict:
    """End a running pause: its working time is added to the case's paused days."""
    if case.paused_since is None:
        return {"paused_since": None, "pause_reason": ""} if case.pause_reason else {}
    added = calendar.get_calendar().elapsed_working_days(case.paused_since, now)
    case.paused_days += added
    case.paused_since, case.pause_reason = None, ""
    return {"paused_days": case.paused_days, "paused_since": None, "pause_reason": "", "_added": added}


def _pause(case, reason: str, now) -> dict:
    if case.pause_reason:
        raise Conflict(_("The case is already paused."))
    case.pause_reason = reason
    if case.accepted_at is None:
        # Before acceptance no clock runs; the case only waits.
        return {"pause_reason": reason}
    case.paused_since = now
    workflow.pause_subject(case.number, now)
    return {"pause_reason": reason, "paused_since": now}


def _resume(case, now) -> dict:
    changes = _stop_clock(case, now)
    added = changes.pop("_added", 0.0)
    if case.accepted_at is not None and case.limit_days is not None:
        changes["due_at"] = due_date(case.accepted_at, case.limit_days, case.paused_days)
    if case.accepted_at is not None:
        workflow.resume_subject(case.number, added, now)
    return changes


def due_date(accepted_at, limit_days: int, paused_days: float):
    """The promised date moves out by the working time the clock stood still."""
    return calendar.get_calendar().instant_of(accepted_at, limit_days + paused_days)


CLOSED_STATUSES = (CaseStatus.ISSUED, CaseStatus.WITHDRAWN, CaseStatus.NOT_ACCEPTED, CaseStatus.REVOKED)


def _on_commit_revoked(case) -> None:
    """After commit: the licences issued from the case are revoked with it (by the worker)."""
    from .. import tasks

    number = case.number
    transaction.on_commit(lambda: tasks.revoke_licences(number, "事后核查不通过，准予许可决定已撤销"))
    transaction.on_commit(lambda: signals.result_revoked.send(sender=Case, case_number=number))


# Text messages for the notices an applicant must not miss (补正 has a deadline; 出件 means the
# result waits; 不予受理 ends the case). Gateways send only templates approved beforehand, so the
# texts are fixed here and name the case, never a person (core.sms).
SMS_NOTICES = {
    "supplement": sms.register_template(
        "case.supplement",
        "【通办】您的办件{number}需要补正材料，请在期限内登录“我的”查看补正通知并提交。",
        ("number",),
    ),
    "issued": sms.register_template(
        "case.issued", "【通办】您的办件{number}已办结出件，请登录“我的”查看办理结果。", ("number",)
    ),
    "not_accepted": sms.register_template(
        "case.not_accepted", "【通办】您的申请{number}未予受理，原因请登录“我的”查看。", ("number",)
    ),
}


def _notify_applicant(case, title, body, now, *, text: str = "") -> None:
    """A message in the applicant's inbox; with `text` (a key of SMS_NOTICES) also a text message to
    their mobile number once the change has committed."""
    account_services.notify(
        [case.submitted_by_id],
        kind="case",
        title=title,
        body=body or "",
        subject=case.number,
        link=f"/my/cases/{case.number}/",
        now=now,
    )
    if text:
        template = SMS_NOTICES[text].key
        transaction.on_commit(lambda: _text_applicant(case.applicant_id, template, case.number))


def _text_applicant(person_id: int, template: str, number: str) -> None:
    """Best effort: a gateway that fails never undoes the notice (the inbox holds it) and is logged."""
    person = Person.objects.filter(pk=person_id).only("phone").first()
    phone = person.phone if person is not None else ""
    if not phone:
        return
    try:
        sms.send(phone, template, {"number": number})
    except sms.SmsFailure as exc:
        log.warning("case notice %s for %s not sent by SMS: %s", template, number, exc)


def open_work(actor, number: str) -> list[store_wf.WorkRow]:
    """The steps of a case waiting to be done, for those who may see the case."""
    case = _access_row(actor, number)
    return store_wf.open_work_of(case.number)


def current_due(case: Case, now=None):
    """The promised instant as of now: while the clock stands still (补正, special procedures) it
    moves out day by day with the pause, as it will once the pause ends."""
    if case.paused_since is None or case.accepted_at is None or case.limit_days is None:
        return case.due_at
    now = now or timezone.now()
    paused = case.paused_days + calendar.get_calendar().elapsed_working_days(case.paused_since, now)
    return due_date(case.accepted_at, case.limit_days, paused)


def status_colour(case: Case, now=None) -> str:
    """Red, yellow or green against the promised limit, paused time excluded (DOMAIN.md); "paused"
    while the clock stands still, which is neither on track nor late."""
    if case.accepted_at is None or case.limit_days is None or not case.is_open:
        return ""
    if case.paused_since is not None:
        return "paused"
    now = now or timezone.now()
    return (
        calendar.get_calendar().status(case.accepted_at, case.limit_days, now, paused=case.paused_days).colour
    )


# --- the window: its queues, and what an application asks for -------------------------------------

WINDOW_QUEUES = ("submitted", "supplement", "gaps", "decided")


def window_queue(actor, *, status: str, item_code: str = "", q: str = ""):
    """The window's queues (a queryset), oldest first: applications to accept (submitted, including
    秒批 cases the rules left to a person), cases waiting on the applicant (supplement), accepted cases
    with 容缺 materials still to come (gaps), and decided cases waiting to be issued (decided)."""
    from tongban.core.authz import require

    from ..models import MaterialStatus

    require(actor, perms.CASE_ACCEPT)
    if status not in WINDOW_QUEUES:
        raise InvalidInput.single("status", "choice", _("Choose one of the window's queues."))
    cases = Case.objects.select_related("applicant", "enterprise", "department", "window")
    if status == "gaps":
        with_gaps = Case.objects.filter(materials__status=MaterialStatus.MISSING).values("pk")
        cases = (
            cases.filter(pk__in=with_gaps).exclude(status__in=CLOSED_STATUSES).order_by("accepted_at", "id")
        )
    else:
        order = {"submitted": "submitted_at", "supplement": "submitted_at", "decided": "decided_at"}[status]
        cases = cases.filter(status=status).order_by(order, "id")
    item_code = (item_code or "").strip()
    if item_code:
        cases = cases.filter(
            Q(item_version__item__code=item_code) | Q(bundle_version__bundle__code=item_code)
        )
    q = (q or "").strip()[:100]
    if q:
        cases = cases.filter(
            Q(number__icontains=q) | Q(applicant__name__contains=q) | Q(enterprise__name__contains=q)
        )
    return cases


class ApplicationForm:
    """What an application for an item or a bundle asks: its form fields and materials, and whether
    容缺 or 告知承诺 may be used. Read-only; built from a published or a pinned version."""

    def __init__(self, target: _Target):
        self._target = target
        self.kind = "item" if target.item else "bundle"
        self.code = target.item.item.code if target.item else target.bundle.bundle.code
        self.title = target.title
        self.department = target.department
        self.limit_days = target.limit_days
        self.fields = target.form_fields()
        self.accepts_with_gaps = target.accepts_with_gaps
        self.commitment_allowed = target.commitment_allowed

    @property
    def materials(self) -> list[dict]:
        """Name, required, core, exempt (a licence or shared data may stand in) and (for items) the
        guide's note, in the guide's order."""
        if self._target.item:
            return [
                {
                    "name": m.name,
                    "required": m.required,
                    "core": m.core,
                    "notes": m.notes,
                    "exempt": bool(m.licence_type or m.data_query),
                }
                for m in self._target.item.materials.all()
            ]
        return [
            {**m, "notes": "", "exempt": bool(m.get("licence_type") or m.get("data_query"))}
            for m in self._target.materials()
        ]


def application_form(*, item_code: str = "", bundle_code: str = "", case=None) -> ApplicationForm:
    """The published item's or bundle's form, or (given a case) the one the case was filed under."""
    return ApplicationForm(_target_of(case) if case is not None else _target(item_code, bundle_code))
