"""Staff working on the steps of a case's process (claim, complete with an opinion and a decision)."""

import json
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts import roles as perms
from tongban.core import audit
from tongban.core.errors import Conflict, FieldErrors, InvalidInput, NotFound, NotPermitted
from tongban.core.masking import mask_name
from tongban.workflow import builder
from tongban.workflow import services as workflow
from tongban.workflow import store as store_wf
from tongban.workflow.models import WorkItem

from .. import store
from ..models import (
    CaseStatus,
)
from ._base import (
    _decide,
    _DepartmentPath,
    _event,
    _record,
    _work_events,
    can_see,
)


def claim_work(actor, work_id) -> WorkItem:
    with audit.audited("cases.work.claim", actor=actor, object_type="work_item", object_ref=str(work_id)):
        return workflow.claim(actor, work_id)


BATCH_CLAIM_LIMIT = 100


def claim_many(actor, work_ids: list) -> tuple[list, list]:
    """批量领取: take several steps at once. Each is its own claim (journalled, and a step someone
    else took meanwhile is reported, not an error for the rest); returns (claimed, not claimed)."""
    if not isinstance(work_ids, list | tuple) or not work_ids:
        raise InvalidInput.single("work", "required", _("Choose the steps to claim."))
    if len(work_ids) > BATCH_CLAIM_LIMIT:
        raise InvalidInput.single("work", "max_length", _("Claim at most 100 steps at once."))
    claimed, missed = [], []
    for work_id in dict.fromkeys(work_ids):
        try:
            claimed.append(claim_work(actor, work_id))
        except (Conflict, NotFound, NotPermitted):
            missed.append(work_id)
    return claimed, missed


def complete_work(actor, work_id, *, decision: str, opinion: str = "", now=None):
    """Finish a step of a case. When the process ends the case is decided.

    A rejection states its reasons (行政许可法 art. 38): they go into the decision document.
    """
    if decision == "reject" and not (opinion or "").strip():
        raise InvalidInput.single("opinion", "required", _("Give the reasons for the rejection."))
    now = now or timezone.now()
    with audit.audited(
        "cases.work.complete",
        actor=actor,
        object_type="work_item",
        object_ref=str(work_id),
        detail={"decision": decision},
    ) as entry:
        item = workflow.access_work(actor, work_id)
        case = store.lock_case(item.subject)
        if case is None or case.status != CaseStatus.IN_PROGRESS:
            raise Conflict(_("The case is not in progress (it may wait for the applicant)."))
        if case.pause_reason:
            raise Conflict(_("A special procedure is running: finish it before deciding."))
        work, result = workflow.complete(
            actor,
            work_id,
            decision=decision,
            opinion=opinion,
            data=case.data,
            default_department=store_wf.department_by_id(case.department_id),
            now=now,
            item=item,
        )
        entry.department_code = store_wf.department_code(case.department_id)
        workflow.note_opinion_used(actor, opinion)
        events = [
            _event(
                case,
                f"work:{work.name}",
                actor,
                now=now,
                department=work.department_code,
                work_item=work.public_id,
                detail={"node": work.node_id, "decision": decision},
            )
        ]
        _carry_out(case, result, actor, now, events)
    return work, result


def _carry_out(case, result, actor, now, events: list) -> None:
    """What the engine did after a step or a message: its work events, the process data it wrote
    into the case, the decision when the process ended; then the case row and the log."""
    events += _work_events(case, result, actor, now)
    changes = {}
    if result.data:
        case.data.update(result.data)
        changes["data"] = case.data
    if result.completed:
        events.append(_decide(case, actor, now, changes))
    if changes:
        store.update_case(case.id, **changes)
    _record(events)


MESSAGE_NAME_MAX = 200
MESSAGE_PAYLOAD_MAX = 16 * 1024


def deliver_message(actor, number: str, *, name: str, payload: dict | None = None, now=None):
    """A message from another system for the process of case `number` (a payment confirmed, a
    document issued elsewhere): the event of the process waiting for a message of that name takes
    it. The caller must hold case.message for the case's department."""
    errors = FieldErrors()
    name = errors.require_text("name", name, max_length=MESSAGE_NAME_MAX)
    payload = payload if payload is not None else {}
    if not isinstance(payload, dict):
        errors.add("payload", "type", _("The payload must be a JSON object."))
    elif len(json.dumps(payload, ensure_ascii=False)) > MESSAGE_PAYLOAD_MAX:
        errors.add("payload", "max_length", _("The payload is larger than 16 KB."))
    errors.raise_if_any()
    now = now or timezone.now()
    with audit.audited(
        "cases.message", actor=actor, object_type="case", object_ref=number, detail={"message": name}
    ) as entry:
        case = store.lock_case(number)
        if case is None or not can_see(actor, case):
            raise NotFound()
        department_path = store_wf.department_by_id(case.department_id)[1]
        if not actor.can(perms.CASE_MESSAGE, _DepartmentPath(department_path)):
            raise NotPermitted()
        entry.department_code = store_wf.department_code(case.department_id)
        if case.status != CaseStatus.IN_PROGRESS:
            raise Conflict(_("The case is not in progress (it may wait for the applicant)."))
        if case.pause_reason:
            raise Conflict(_("The case is paused: its process takes no messages until it resumes."))
        result = workflow.deliver_message(
            case.number,
            name,
            payload=payload,
            data=case.data,
            default_department=store_wf.department_by_id(case.department_id),
            now=now,
        )
        events = [
            _event(
                case,
                "case.message_received",
                actor,
                now=now,
                detail={"message": name, "node": result.passed[0]},
            )
        ]
        _carry_out(case, result, actor, now, events)
    return result


@dataclass(frozen=True)
class ReturnNote:
    """Why a step is back on someone's list: the step that returned it, who, when and the reason."""

    from_step: str
    by: str
    at: object
    opinion: str


@dataclass
class WorkRowView:
    """A worklist line: the step, its colour, and the case it belongs to (applicant's name masked)."""

    work: store_wf.WorkRow
    colour: str
    case: dict
    returned: ReturnNote | None = None


def return_notes(works) -> dict[int, ReturnNote]:
    """For each of these work items that a 退回 created, why (one query for all of them).

    A return closes the returning step and opens the step again at the same instant, in the same
    process instance: that pairing is how the note is found, without a column of its own."""
    from tongban.accounts.models import User

    works = list(works)
    instances = {w.instance_id for w in works if w.instance_id}
    if not instances:
        return {}
    returned = list(
        WorkItem.objects.filter(instance_id__in=instances, status="returned").values_list(
            "instance_id", "completed_at", "name", "completed_by_id", "opinion"
        )
    )
    if not returned:
        return {}
    names = dict(
        User.objects.filter(pk__in={r[3] for r in returned if r[3]}).values_list("pk", "display_name")
    )
    by_moment = {(r[0], r[1]): r for r in returned}
    notes = {}
    for work in works:
        row = by_moment.get((work.instance_id, work.created_at))
        if row is not None:
            notes[work.id] = ReturnNote(from_step=row[2], by=names.get(row[3], ""), at=row[1], opinion=row[4])
    return notes


WORKLIST_COUNT_CAP = workflow.WORKLIST_COUNT_CAP


def worklist(
    actor,
    *,
    colour: str | None = None,
    item_code: str = "",
    bundle_code: str = "",
    due_before=None,
    kind: str | None = None,
    mine_only: bool = False,
    page: int = 1,
    per_page: int = 20,
    now=None,
) -> tuple[list[WorkRowView], int]:
    """待办: the steps the actor may take or holds, filtered by RYG, item and due date, soonest first.

    The total is exact up to WORKLIST_COUNT_CAP steps, and WORKLIST_COUNT_CAP + 1 beyond."""
    if getattr(actor, "staff", None) is None:
        raise NotPermitted(_("The worklist is for staff."))
    now = now or timezone.now()
    process_key = (
        builder.item_key(item_code)
        if item_code
        else (builder.bundle_key(bundle_code) if bundle_code else None)
    )
    works, total = workflow.worklist(
        actor,
        colour=colour,
        process_key=process_key,
        due_before=due_before,
        kind=kind,
        mine_only=mine_only,
        exclude_key_prefix=None if process_key else "document:",  # documents have their own pages
        page=page,
        per_page=per_page,
        now=now,
    )
    cases = store.case_summaries(sorted({w.subject for w in works}))
    notes = return_notes(works)
    rows = []
    for work in works:
        case = dict(cases.get(work.subject) or {"number": work.subject, "title": "", "applicant": ""})
        case["applicant"] = mask_name(case.get("applicant") or "")
        rows.append(WorkRowView(work, workflow.colour_of(work, now), case, notes.get(work.id)))
    return rows, total


@dataclass
class DoneRowView:
    """An 已办 line: the step the actor finished or sent back, and where its case stands now."""

    work: WorkItem
    case: dict


def done_list(
    actor,
    *,
    item_code: str = "",
    decision: str = "",
    since=None,
    until=None,
    page: int = 1,
    per_page: int = 20,
) -> tuple[list[DoneRowView], int]:
    """已办: the steps of cases the actor has finished or sent back, newest first."""
    works, total = workflow.done_work(
        actor,
        process_key=builder.item_key(item_code) if item_code else None,
        exclude_key_prefix="document:",  # documents have their own pages
        decision=decision,
        since=since,
        until=until,
        page=page,
        per_page=per_page,
    )
    cases = store.case_summaries(sorted({w.subject for w in works}))
    rows = []
    for work in works:
        case = dict(cases.get(work.subject) or {"number": work.subject, "title": "", "applicant": ""})
        case["applicant"] = mask_name(case.get("applicant") or "")
        rows.append(DoneRowView(work, case))
    return rows, total


EXPORT_PAGE = 100


def _export(actor, lister, filters: dict, limit: int, action: str) -> list:
    """Every row of a list up to `limit`, page by page as the list reads them; the export is
    journalled (it takes applicants' names, masked, off the screen)."""
    rows: list = []
    page = 1
    while len(rows) < limit:
        chunk, total = lister(actor, **filters, page=page, per_page=EXPORT_PAGE)
        rows += chunk
        if len(chunk) < EXPORT_PAGE or len(rows) >= total:
            break
        page += 1
    rows = rows[:limit]
    audit.record(
        action,
        actor=actor,
        object_type="work_list",
        detail={"rows": len(rows), **{k: str(v) for k, v in filters.items() if v}},
    )
    return rows


def export_worklist(actor, *, limit: int, **filters) -> list[WorkRowView]:
    """待办 as it is filtered, for a spreadsheet."""
    return _export(actor, worklist, filters, limit, "cases.worklist.export")


def export_done(actor, *, limit: int, **filters) -> list[DoneRowView]:
    """已办 as it is filtered, for a spreadsheet."""
    return _export(actor, done_list, filters, limit, "cases.done.export")


def _step_event(actor, item, activity: str, now, detail: dict) -> None:
    case = store.read_case(item.subject)
    if case is not None:
        _record(
            [
                _event(
                    case,
                    activity,
                    actor,
                    now=now,
                    department=store_wf.department_code(item.department_id),
                    work_item=item.public_id,
                    detail=detail,
                )
            ]
        )


def return_work(actor, work_id, *, opinion: str, now=None):
    """退回: the step goes back to whoever did the previous one (return it to the applicant with
    request_supplement instead)."""
    now = now or timezone.now()
    with audit.audited("cases.work.return", actor=actor, object_type="work_item", object_ref=str(work_id)):
        item = workflow.access_work(actor, work_id)
        case = store.lock_case(item.subject)
        if case is None or case.status != CaseStatus.IN_PROGRESS:
            raise Conflict(_("The case is not in progress (it may wait for the applicant)."))
        again = workflow.return_to_previous(actor, work_id, opinion=opinion, now=now)
        workflow.note_opinion_used(actor, opinion)
        _step_event(actor, item, "work.returned", now, {"node": item.node_id, "to": again.node_id})
    return again


def transfer_work(actor, work_id, *, to_username: str, opinion: str = "", now=None):
    """转办: hand the step to a colleague who holds the same role for its department."""
    now = now or timezone.now()
    with audit.audited(
        "cases.work.transfer",
        actor=actor,
        object_type="work_item",
        object_ref=str(work_id),
        detail={"to": to_username},
    ):
        item = workflow.transfer(actor, work_id, to_username=to_username, opinion=opinion, now=now)
        _step_event(actor, item, "work.transferred", now, {"node": item.node_id, "to": to_username})
    return item


def add_countersigner(actor, work_id, *, username: str, now=None):
    """加签: another person must also sign the step before it completes."""
    now = now or timezone.now()
    with audit.audited(
        "cases.work.countersign",
        actor=actor,
        object_type="work_item",
        object_ref=str(work_id),
        detail={"add": username},
    ):
        item = workflow.access_work(actor, work_id)
        added = workflow.add_countersigner(actor, work_id, username=username, now=now)
        _step_event(actor, item, "work.countersigner_added", now, {"node": item.node_id, "user": username})
    return added
