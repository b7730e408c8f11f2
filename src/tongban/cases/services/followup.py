"""After the decision and around it: 事后核查, 好差评 with 整改 and 回访, reminders (催办) and escalations."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from tongban.accounts import services as account_services
from tongban.accounts.models import Department
from tongban.core import audit
from tongban.core.errors import Conflict, FieldErrors, NotFound, NotPermitted
from tongban.core.i18n import Later
from tongban.workflow import services as workflow
from tongban.workflow import store as store_wf
from tongban.workflow.models import WorkKind

from .. import store
from ..models import (
    BAD_RATINGS,
    CallbackResult,
    Case,
    CaseStatus,
    Rating,
    RatingLevel,
)
from ._base import (
    _access_row,
    _decide,
    _event,
    _is_applicant,
    _notify_applicant,
    _on_commit_revoked,
    _record,
    _work_events,
    process_key,
)
from .pauses import (
    alert_overdue_gaps,
)

# --- 事后核查: the inspection after a 告知承诺 approval ------------------------------------------------


def complete_inspection(actor, work_id, *, passed: bool, opinion: str, now=None) -> Case:
    """The follow-up inspection: a false commitment revokes the approval."""
    now = now or timezone.now()
    decision = "pass" if passed else "fail"
    with audit.audited(
        "cases.inspection.complete",
        actor=actor,
        object_type="work_item",
        object_ref=str(work_id),
        detail={"decision": decision},
    ) as entry:
        item = workflow.access_work(actor, work_id)
        case = store.lock_case(item.subject)
        if case is None:
            raise NotFound()
        work = workflow.finish_task(
            actor, work_id, kind=WorkKind.INSPECTION, decision=decision, opinion=opinion, now=now
        )
        entry.department_code = work.department_code
        events = [
            _event(
                case,
                "work:inspection",
                actor,
                now=now,
                department=work.department_code,
                work_item=work.public_id,
                detail={"decision": decision},
            )
        ]
        if not passed:
            revocable = case.status in (CaseStatus.DECIDED, CaseStatus.ISSUED)
            if revocable:
                store.update_case(case.id, status=CaseStatus.REVOKED, revoked_at=now)
                case.status = CaseStatus.REVOKED
                events.append(
                    _event(case, "case.revoked", actor, now=now, detail={"reason": "inspection_failed"})
                )
                _notify_applicant(
                    case,
                    Later(
                        gettext_noop("The approval of %(n)s has been revoked after inspection"), n=case.number
                    ),
                    opinion,
                    now,
                )
                _on_commit_revoked(case)
        _record(events)
    return Case.objects.get(pk=case.id)


# --- 好差评 and 整改 --------------------------------------------------------------------------------


def rate(actor, number: str, *, score: int, comment: str = "", now=None) -> Rating:
    """好差评: the applicant rates the service once; a bad rating opens a rectification with a callback."""
    errors = FieldErrors()
    if score not in RatingLevel.values:
        errors.add("score", "choice", _("Choose a rating from 1 to 5."))
    if len(comment or "") > 1000:
        errors.add("comment", "max_length", _("The comment is too long."))
    if score in BAD_RATINGS and not (comment or "").strip():
        errors.add("comment", "required", _("Tell us what went wrong, so it can be put right."))
    errors.raise_if_any()
    now = now or timezone.now()
    with audit.audited(
        "cases.case.rate", actor=actor, object_type="case", object_ref=number, detail={"score": score}
    ):
        case = _access_row(actor, number, lock=True)
        if not _is_applicant(actor, case):
            raise NotPermitted(_("Only the applicant can rate this service."))
        if case.status not in (CaseStatus.ISSUED, CaseStatus.NOT_ACCEPTED, CaseStatus.REVOKED):
            raise Conflict(_("A case can be rated once it is finished."))
        if Rating.objects.filter(case_id=case.id).exists():
            raise Conflict(_("This case has already been rated."))
        department = Department.objects.get(pk=case.department_id)
        rating = Rating.objects.create(
            case_id=case.id,
            score=score,
            comment=(comment or "").strip(),
            rated_by=actor.user,
            rated_at=now,
            department=department,
        )
        events = [_event(case, "case.rated", actor, now=now, detail={"score": score})]
        if rating.is_bad:
            task = workflow.create_task(
                kind=WorkKind.RECTIFICATION,
                subject=case.number,
                name=str(_("Rectification after a bad rating (差评整改)")),
                department=department,
                role="section_head",
                limit_days=settings.TONGBAN_RECTIFICATION_DAYS,
                now=now,
                process_key=process_key(case),
            )
            rating.rectification, rating.rectification_due_at = task.public_id, task.due_at
            rating.save(update_fields=["rectification", "rectification_due_at"])
            events.append(
                _event(
                    case,
                    "work:rectification",
                    None,
                    now=now,
                    lifecycle="start",
                    department=department.code,
                    work_item=task.public_id,
                    detail={"due": task.due_at.isoformat()},
                )
            )
            account_services.notify(
                account_services.role_holders("section_head", department.path, nearest_only=True),
                kind="alert",
                title=Later(
                    gettext_noop("Bad rating of %(n)s: rectification due %(d)s"),
                    n=case.number,
                    d=timezone.localtime(task.due_at).strftime("%Y-%m-%d"),
                ),
                subject=case.number,
                link=f"/work/{task.public_id}/",
                now=now,
            )
        _record(events)
    return rating


def complete_rectification(
    actor, work_id, *, measures: str, callback_result: str, callback_note: str = "", now=None
) -> Rating:
    """整改 done: what was changed, and the callback (回访) to the applicant who rated it."""
    errors = FieldErrors()
    if callback_result not in CallbackResult.values:
        errors.add("callback_result", "choice", _("Record how the callback went."))
    if len(callback_note or "") > 1000:
        errors.add("callback_note", "max_length", _("The note is too long."))
    errors.raise_if_any()
    now = now or timezone.now()
    with audit.audited(
        "cases.rectification.complete", actor=actor, object_type="work_item", object_ref=str(work_id)
    ) as entry:
        item = workflow.access_work(actor, work_id)
        rating = Rating.objects.select_related("case").filter(rectification=item.public_id).first()
        if rating is None:
            raise NotFound()
        work = workflow.finish_task(
            actor, work_id, kind=WorkKind.RECTIFICATION, decision="done", opinion=measures, now=now
        )
        entry.department_code = work.department_code
        rating.rectified_at, rating.measures = now, measures.strip()
        rating.callback_at, rating.callback_result, rating.callback_note = (
            now,
            callback_result,
            (callback_note or "").strip(),
        )
        rating.save(
            update_fields=["rectified_at", "measures", "callback_at", "callback_result", "callback_note"]
        )
        in_time = rating.rectification_due_at is None or now <= rating.rectification_due_at
        _record(
            [
                _event(
                    rating.case,
                    "work:rectification",
                    actor,
                    now=now,
                    department=work.department_code,
                    work_item=work.public_id,
                    detail={"in_time": in_time, "callback": callback_result},
                )
            ]
        )
    return rating


# --- reminders and escalations (the periodic sweep) ------------------------------------------------


def sweep(now=None) -> dict:
    """催办 at 50 % and 80 % of each step's limit, escalation when overdue, alerts for overdue 容缺
    materials. Idempotent: each reminder goes out once. Run by the worker every few minutes."""
    now = now or timezone.now()
    reminders = workflow.sweep_reminders(now)
    events = []
    numbers = {r.item.subject for r in reminders}
    rows = {number: store.read_case(number) for number in numbers}
    for reminder in reminders:
        case = rows.get(reminder.item.subject)
        if case is None:
            continue
        events.append(
            _event(
                case,
                "work.escalated" if reminder.escalated else "work.reminded",
                None,
                now=now,
                department=store_wf.department_code(reminder.item.department_id),
                work_item=reminder.item.public_id,
                detail={"stage": reminder.stage, "recipients": len(reminder.recipients)},
            )
        )
    if events:
        with transaction.atomic():
            _record(events)
    gaps = alert_overdue_gaps(now)
    timers = fire_timers(now)
    return {
        "timers": timers,
        "reminders": sum(1 for r in reminders if not r.escalated),
        "escalations": sum(1 for r in reminders if r.escalated),
        "gap_alerts": gaps,
    }


def fire_timers(now) -> int:
    """Timer events of the processes (boundary timers on steps, intermediate timers) that have come
    due move their cases on. A case waiting on the applicant or a special procedure keeps its timers
    until it resumes; a case no longer in progress has them cancelled."""
    fired = 0
    for timer in workflow.due_timers(now):
        with transaction.atomic():
            case = store.lock_case(timer.subject)
            if case is None or case.status != CaseStatus.IN_PROGRESS:
                workflow.cancel_timer(timer.pk)
                continue
            if case.pause_reason:
                continue
            result = workflow.fire_timer(
                timer.pk,
                data=case.data,
                default_department=store_wf.department_by_id(case.department_id),
                now=now,
            )
            if result is None:
                continue
            events = _work_events(case, result, None, now)
            changes = {}
            if result.data:
                case.data.update(result.data)
                changes["data"] = case.data
            if result.completed:
                events.append(_decide(case, None, now, changes))
            if changes:
                store.update_case(case.id, **changes)
            _record(events)
            fired += 1
    return fired


def remind_work(actor, work_id, *, message: str = "", now=None) -> int:
    """催办 sent by hand by a head or supervisor, recorded on the case."""
    now = now or timezone.now()
    with audit.audited("cases.work.remind", actor=actor, object_type="work_item", object_ref=str(work_id)):
        recipients = workflow.remind(actor, work_id, message=message, now=now)
        item = store_wf.load_work(work_id)
        case = store.read_case(item.subject)
        if case is not None:
            _record(
                [
                    _event(
                        case,
                        "work.reminded",
                        actor,
                        now=now,
                        department=item.department_code,
                        work_item=item.public_id,
                        detail={"manual": True, "recipients": len(recipients)},
                    )
                ]
            )
    return len(recipients)
