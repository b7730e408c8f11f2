"""Rebuild a case's state from its domain events alone.

The event log is the record analytics and auditors trust; replaying it must give the state the
case row holds. The property tests check exactly that after random sequences of actions, and the
analytics issue can use the same rules to read imported logs.
"""

from dataclasses import dataclass

from tongban.core import calendar

from .models import CaseStatus


@dataclass
class Replayed:
    status: str = ""
    decision: str = ""
    accepted: bool = False
    paused_since: object = None
    pause_reason: str = ""
    paused_days: float = 0.0
    visits_online: bool = True


_SIMPLE = {
    "case.submitted": CaseStatus.SUBMITTED,
    "case.issued": CaseStatus.ISSUED,
    "case.withdrawn": CaseStatus.WITHDRAWN,
    "case.not_accepted": CaseStatus.NOT_ACCEPTED,
    "case.revoked": CaseStatus.REVOKED,
}


def replay(events) -> Replayed:
    """Events in the order they were written (occurred_at, id): dicts or CaseEvent rows."""
    cal = calendar.get_calendar()
    state = Replayed()

    def get(event, name):
        return event[name] if isinstance(event, dict) else getattr(event, name)

    def stop_clock(at):
        if state.paused_since is not None:
            state.paused_days += cal.elapsed_working_days(state.paused_since, at)
        state.paused_since, state.pause_reason = None, ""

    for event in events:
        activity, at, detail = get(event, "activity"), get(event, "occurred_at"), get(event, "detail") or {}
        if activity in _SIMPLE:
            if activity in ("case.withdrawn", "case.not_accepted"):
                stop_clock(at)
            state.status = _SIMPLE[activity]
        elif activity == "case.accepted":
            state.status, state.accepted = CaseStatus.IN_PROGRESS, True
        elif activity == "case.decided":
            state.status, state.decision = CaseStatus.DECIDED, detail.get("decision", "")
        elif activity == "case.supplement_requested":
            state.status, state.pause_reason = CaseStatus.SUPPLEMENT, "supplement"
            state.paused_since = at if state.accepted else None
        elif activity == "case.supplement_received":
            stop_clock(at)
            state.status = CaseStatus.IN_PROGRESS if state.accepted else CaseStatus.SUBMITTED
        elif activity == "case.procedure_started":
            state.paused_since, state.pause_reason = at, "special"
        elif activity == "case.procedure_ended":
            stop_clock(at)
    return state
