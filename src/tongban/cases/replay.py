"""Rebuild a case's state from its domain events alone.

The event log is the record analytics and auditors trust; replaying it must give the state the
case row holds. The property tests check exactly that after random sequences of actions, and the
analytics issue can use the same rules to read imported logs.
"""

from dataclasses import dataclass

from tongban.core import calendar

from .activities import STATUS_AFTER
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


def replay(events) -> Replayed:
    """Events in the order they were written (occurred_at, id): dicts or core.events.Event objects."""
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
        if activity in STATUS_AFTER:
            state.status = STATUS_AFTER[activity]
        if activity in ("case.withdrawn", "case.not_accepted"):
            stop_clock(at)
        elif activity == "case.accepted":
            state.accepted = True
        elif activity == "case.decided":
            state.decision = detail.get("decision", "")
        elif activity == "case.supplement_requested":
            state.pause_reason = "supplement"
            state.paused_since = at if state.accepted else None
        elif activity == "case.supplement_received":
            stop_clock(at)
            state.status = CaseStatus.IN_PROGRESS if state.accepted else CaseStatus.SUBMITTED
        elif activity == "case.procedure_started":
            state.paused_since, state.pause_reason = at, "special"
        elif activity == "case.procedure_ended":
            stop_clock(at)
    return state
