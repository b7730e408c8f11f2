"""What holds a case up: 补正 (supplement requests), 容缺 materials to follow, special procedures."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from tongban.accounts import roles as perms
from tongban.accounts import services as account_services
from tongban.core import audit
from tongban.core.errors import Conflict, FieldErrors, Formatted, InvalidInput, NotPermitted
from tongban.core.i18n import Later
from tongban.workflow import services as workflow
from tongban.workflow import store as store_wf

from .. import store
from ..models import (
    Case,
    CaseMaterial,
    CaseStatus,
    MaterialSource,
    MaterialStatus,
    PauseReason,
    ProcedureKind,
    SpecialProcedure,
    Supplement,
)
from . import prechecks
from ._base import (
    CLOSED_STATUSES,
    _access_row,
    _event,
    _inspect_batch,
    _is_applicant,
    _notify_applicant,
    _pause,
    _record,
    _resume,
    _store_uploads,
)

# --- 补正: supplement requests --------------------------------------------------------------------


def request_supplement(
    actor, number: str, *, items: list[dict], note: str = "", work_id=None, now=None
) -> Supplement:
    """补正: tell the applicant, in one notice, everything to add or fix; the clock pauses until they answer.

    A clerk may ask before acceptance (within TONGBAN_SUPPLEMENT_NOTICE_DAYS working days of
    receipt, 行政许可法 art. 32); once the case is in progress, whoever holds one of its open steps may
    (退回申请人), naming the step.
    """
    items = _clean_supplement_items(items)
    if len(note or "") > 2000:
        raise InvalidInput.single("note", "max_length", _("The note is too long."))
    now = now or timezone.now()
    with audit.audited("cases.case.supplement", actor=actor, object_type="case", object_ref=number) as entry:
        case = _access_row(actor, number, lock=True)
        step = None
        if work_id:
            step = workflow.access_work(actor, work_id)
            if step.subject != case.number or not step.is_open or not workflow.can_work_on(actor, step):
                raise Conflict(_("Only a step of this case you work on can return it to the applicant."))
        elif not actor.can(perms.CASE_ACCEPT):
            raise NotPermitted(_("Only the window or the reviewer of a step can request a supplement."))
        if case.status not in (CaseStatus.SUBMITTED, CaseStatus.IN_PROGRESS) or case.pause_reason:
            raise Conflict(_("A supplement can be requested only while the case is being handled."))
        if case.status == CaseStatus.IN_PROGRESS and step is None:
            raise Conflict(_("The case is in progress: request the supplement from its open step."))
        known = store.material_names(case.id)
        store.add_materials(case.id, [i["material"] for i in items if i["material"] not in known])
        store.mark_materials(case.id, [i["material"] for i in items], status=MaterialStatus.REQUESTED)
        changes = _pause(case, PauseReason.SUPPLEMENT, now)
        changes["status"] = case.status = CaseStatus.SUPPLEMENT
        store.update_case(case.id, **changes)
        supplement = Supplement.objects.create(
            case_id=case.id,
            requested_by=actor.user,
            requested_at=now,
            items=items,
            note=note or "",
            work_item=step.public_id if step else None,
        )
        _record(
            [
                _event(
                    case,
                    "case.supplement_requested",
                    actor,
                    now=now,
                    department=step.department_code if step else "",
                    work_item=step.public_id if step else None,
                    detail={"items": [i["material"] for i in items], "supplement": supplement.pk},
                )
            ]
        )
        entry.detail["items"] = len(items)
        _notify_applicant(
            case,
            Later(gettext_noop("Supplement needed for %(n)s (补正)"), n=case.number),
            "\n".join(f"{i['material']}: {i['reason']}" for i in items) + (f"\n{note}" if note else ""),
            now,
            text="supplement",
        )
    return supplement


def _clean_supplement_items(items) -> list[dict]:
    errors = FieldErrors()
    if not isinstance(items, list) or not items:
        raise InvalidInput.single("items", "required", _("List at least one material to add or fix."))
    if len(items) > 30:
        raise InvalidInput.single("items", "max_items", _("At most 30 items in one notice."))
    cleaned, seen = [], set()
    for i, item in enumerate(items):
        material = str((item or {}).get("material", "")).strip() if isinstance(item, dict) else ""
        reason = str(item.get("reason", "")).strip() if isinstance(item, dict) else ""
        if not material:
            errors.add(f"items[{i}].material", "required", _("Name the material."))
        elif len(material) > 200:
            errors.add(f"items[{i}].material", "max_length", _("The name is too long."))
        elif material in seen:
            errors.add(f"items[{i}].material", "duplicate", _("This material is listed twice."))
        if not reason:
            errors.add(f"items[{i}].reason", "required", _("Say what is missing or wrong."))
        elif len(reason) > 500:
            errors.add(f"items[{i}].reason", "max_length", _("The reason is too long."))
        seen.add(material)
        cleaned.append({"material": material, "reason": reason})
    errors.raise_if_any()
    return cleaned


def respond_supplement(
    actor, number: str, *, files: dict | None = None, paper: list[str] = (), note: str = "", now=None
) -> Case:
    """The applicant answers a 补正 notice with everything it asked for; the clock runs again.

    The applicant uploads files; a clerk may instead record originals checked on paper at the window.
    """
    files = files or {}
    paper = list(paper or ())
    if paper and not actor.can(perms.CASE_ACCEPT):
        raise NotPermitted(_("Only the window can record materials checked on paper."))
    if len(note or "") > 2000:
        raise InvalidInput.single("note", "max_length", _("The note is too long."))
    now = now or timezone.now()
    with audit.audited("cases.case.supplement_response", actor=actor, object_type="case", object_ref=number):
        case = _access_row(actor, number, lock=True)
        if not (_is_applicant(actor, case) or actor.can(perms.CASE_ACCEPT)):
            raise NotPermitted(_("Only the applicant or the window can answer a supplement request."))
        if case.status != CaseStatus.SUPPLEMENT:
            raise Conflict(_("No supplement is requested for this case."))
        requested = store.materials_with_status(case.id, MaterialStatus.REQUESTED)
        errors = FieldErrors()
        for name in files:
            if name not in requested:
                errors.add(f"files.{name}", "not_requested", _("This material was not asked for."))
        for name in paper:
            if name not in requested:
                errors.add("paper", "not_requested", Formatted(_("Not asked for: %(m)s."), {"m": name}))
        for name in requested:
            if name not in files and name not in paper:
                errors.add(f"files.{name}", "required", _("Provide this material."))
        errors.raise_if_any()
        batch = [(name, upload[0], upload[1]) for name, upload in files.items()]
        _inspect_batch(batch)
        for name, stored in _store_uploads(batch).items():
            store.provide_material(case.id, name, source=MaterialSource.UPLOAD, now=now, **stored)
        if batch:
            prechecks.queue_after_commit(case.number)
        if paper:
            store.mark_materials(
                case.id, paper, status=MaterialStatus.PROVIDED, source=MaterialSource.PAPER, now=now
            )
        changes = _resume(case, now)
        changes["status"] = case.status = CaseStatus.IN_PROGRESS if case.accepted_at else CaseStatus.SUBMITTED
        if paper:
            changes["visits"] = case.visits + 1
        store.update_case(case.id, **changes)
        supplement = (
            Supplement.objects.filter(case_id=case.id, responded_at__isnull=True)
            .order_by("-requested_at")
            .first()
        )
        if supplement is not None:
            supplement.responded_at, supplement.response_note = now, note or ""
            supplement.save(update_fields=["responded_at", "response_note"])
        _record(
            [
                _event(
                    case,
                    "case.supplement_received",
                    actor,
                    now=now,
                    detail={"materials": sorted(requested), "paused_days": round(case.paused_days, 4)},
                )
            ]
        )
        if supplement is not None:
            account_services.notify(
                [supplement.requested_by_id],
                kind="case",
                title=Later(
                    gettext_noop("The applicant answered the supplement request for %(n)s"), n=case.number
                ),
                subject=case.number,
                link=f"/cases/{case.number}/",
                now=now,
            )
    return case


# --- 容缺: materials to follow ---------------------------------------------------------------------


def supply_material(
    actor, number: str, *, material: str, upload: tuple | None = None, paper: bool = False, now=None
) -> Case:
    """A material accepted as missing (容缺) or still pending is supplied: uploaded, or checked on paper."""
    if paper and not actor.can(perms.CASE_ACCEPT):
        raise NotPermitted(_("Only the window can record materials checked on paper."))
    if not paper and upload is None:
        raise InvalidInput.single("file", "required", _("Attach the file."))
    now = now or timezone.now()
    with audit.audited("cases.material.supply", actor=actor, object_type="case", object_ref=number) as entry:
        case = _access_row(actor, number, lock=True)
        if not (_is_applicant(actor, case) or actor.can(perms.CASE_ACCEPT)):
            raise NotPermitted(_("Only the applicant or the window can supply materials."))
        if case.status in (CaseStatus.WITHDRAWN, CaseStatus.NOT_ACCEPTED, CaseStatus.REVOKED):
            raise Conflict(_("This case is closed."))
        open_ones = {
            **store.materials_with_status(case.id, MaterialStatus.MISSING),
            **store.materials_with_status(case.id, MaterialStatus.PENDING),
        }
        if material not in open_ones:
            raise InvalidInput.single("material", "not_open", _("This material is not outstanding."))
        if paper:
            store.mark_materials(
                case.id, [material], status=MaterialStatus.PROVIDED, source=MaterialSource.PAPER, now=now
            )
            store.update_case(case.id, visits=case.visits + 1)
        else:
            batch = [(material, upload[0], upload[1])]
            _inspect_batch(batch)
            stored = _store_uploads(batch)[material]
            store.provide_material(case.id, material, source=MaterialSource.UPLOAD, now=now, **stored)
            prechecks.queue_after_commit(case.number)
        entry.detail["material"] = material
        _record(
            [
                _event(
                    case,
                    "case.material_supplied",
                    actor,
                    now=now,
                    detail={"material": material, "paper": paper},
                )
            ]
        )
    return case


def alert_overdue_gaps(now=None) -> int:
    """容缺 materials past their deadline: the clerk who accepted the case is told, once."""
    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        overdue = list(
            CaseMaterial.objects.select_related("case")
            .filter(status=MaterialStatus.MISSING, due_at__lt=now, alerted_at__isnull=True)
            .exclude(case__status__in=CLOSED_STATUSES)[:500]
        )
        for material in overdue:
            case = material.case
            recipients = [case.accepted_by_id] if case.accepted_by_id else []
            account_services.notify(
                recipients,
                kind="alert",
                title=Later(
                    gettext_noop("容缺 material overdue: %(m)s of %(n)s"), m=material.name, n=case.number
                ),
                subject=case.number,
                link=f"/cases/{case.number}/",
                now=now,
            )
            material.alerted_at = now
            material.save(update_fields=["alerted_at"])
            _record([_event(case, "case.gap_overdue", None, now=now, detail={"material": material.name})])
            sent += 1
    return sent


# --- 特别程序: special procedures -------------------------------------------------------------------


def start_procedure(
    actor, number: str, *, kind: str, reason: str, expected_days: int | None = None, work_id=None, now=None
) -> SpecialProcedure:
    """听证, 检验检测, 专家评审 …: the time does not count against the limit; the applicant is told."""
    errors = FieldErrors()
    if kind not in ProcedureKind.values:
        errors.add("kind", "choice", _("Choose a kind of procedure."))
    reason = (reason or "").strip()
    if not reason:
        errors.add("reason", "required", _("Give the reason."))
    elif len(reason) > 2000:
        errors.add("reason", "max_length", _("The reason is too long."))
    if expected_days is not None and (not isinstance(expected_days, int) or not 1 <= expected_days <= 365):
        errors.add("expected_days", "range", _("Give between 1 and 365 working days."))
    errors.raise_if_any()
    now = now or timezone.now()
    with audit.audited(
        "cases.procedure.start", actor=actor, object_type="case", object_ref=number, detail={"kind": kind}
    ):
        case = _access_row(actor, number, lock=True)
        _require_handler(actor, case, work_id)
        if case.status != CaseStatus.IN_PROGRESS:
            raise Conflict(_("A special procedure can start only while the case is in progress."))
        changes = _pause(case, PauseReason.SPECIAL, now)
        store.update_case(case.id, **changes)
        procedure = SpecialProcedure.objects.create(
            case_id=case.id,
            kind=kind,
            reason=reason,
            expected_days=expected_days,
            started_at=now,
            started_by=actor.user,
        )
        _record(
            [
                _event(
                    case,
                    "case.procedure_started",
                    actor,
                    now=now,
                    detail={"kind": kind, "procedure": procedure.pk},
                )
            ]
        )
        _notify_applicant(
            case,
            Later(
                gettext_noop(
                    "%(n)s: special procedure started (%(k)s); this time does not count against the limit"
                ),
                n=case.number,
                k=ProcedureKind(kind).label,
            ),
            reason,
            now,
        )
    return procedure


def end_procedure(actor, number: str, *, result: str, work_id=None, now=None) -> SpecialProcedure:
    result = (result or "").strip()
    if not result:
        raise InvalidInput.single("result", "required", _("Record the result of the procedure."))
    if len(result) > 2000:
        raise InvalidInput.single("result", "max_length", _("The result is too long."))
    now = now or timezone.now()
    with audit.audited("cases.procedure.end", actor=actor, object_type="case", object_ref=number):
        case = _access_row(actor, number, lock=True)
        _require_handler(actor, case, work_id)
        if case.pause_reason != PauseReason.SPECIAL:
            raise Conflict(_("No special procedure is running for this case."))
        procedure = (
            SpecialProcedure.objects.filter(case_id=case.id, ended_at__isnull=True)
            .order_by("-started_at")
            .first()
        )
        changes = _resume(case, now)
        store.update_case(case.id, **changes)
        if procedure is not None:
            procedure.ended_at, procedure.ended_by, procedure.result = now, actor.user, result
            procedure.save(update_fields=["ended_at", "ended_by", "result"])
        _record(
            [
                _event(
                    case,
                    "case.procedure_ended",
                    actor,
                    now=now,
                    detail={
                        "procedure": procedure.pk if procedure else None,
                        "paused_days": round(case.paused_days, 4),
                    },
                )
            ]
        )
        _notify_applicant(
            case,
            Later(gettext_noop("%(n)s: special procedure finished; handling continues"), n=case.number),
            result,
            now,
        )
    return procedure


def _require_handler(actor, case, work_id) -> None:
    """Staff working on one of the case's open steps (or heads over it) run its procedures."""
    if work_id:
        step = workflow.access_work(actor, work_id)
        if step.subject == case.number and step.is_open:
            return
        raise Conflict(_("That step is not an open step of this case."))
    if any(workflow.can_work_on(actor, w) for w in store_wf.open_work_of(case.number)) or _oversees_case(
        actor, case
    ):
        return
    raise NotPermitted(_("Only staff handling this case can do this."))


def _oversees_case(actor, case) -> bool:
    path = store_wf.department_by_id(case.department_id)[1]
    return any(
        perms.WORK_SUPERVISE in g.permissions and path.startswith(g.path)
        for g in getattr(actor, "grants", ())
    )
