"""Kernel use cases: verifying the audit journal and administering the working-day calendar."""

import datetime as dt
import logging

from django.utils.translation import gettext_lazy as _

from . import audit, calendar
from .authz import require
from .errors import InvalidInput
from .models import AuditCheckpoint, AuditEntry, CalendarOverride, CalendarYear

log = logging.getLogger(__name__)

RANGE_MESSAGE = _("The date is outside the supported calendar range.")

AUDIT_VIEW = "audit.view"
AUDIT_VERIFY = "audit.verify"
CALENDAR_MANAGE = "calendar.manage"


def verify_journal(actor, *, trigger: str, progress=None) -> audit.VerifyResult:
    """Verify the whole chain, keep the result as a checkpoint, and journal the check itself."""
    require(actor, AUDIT_VERIFY)
    result = audit.verify(progress=progress)
    AuditCheckpoint.objects.create(
        entries_checked=result.checked,
        anchor=result.anchor,
        ok=result.ok,
        problem=result.message,
        trigger=trigger,
    )
    if result.ok:
        # The anchor (a digest over every chain head) goes to the external log: an earlier anchor
        # that no longer matches proves a rollback of the whole database to an older copy.
        log.info("audit journal intact: %s entries, anchor %s", result.checked, result.anchor)
    else:
        log.error("AUDIT JOURNAL BROKEN: %s", result.message)
    audit.record(
        "core.audit.verify",
        actor=actor,
        outcome="success" if result.ok else "failed",
        object_type="audit_journal",
        object_ref=str(result.checked),
        detail={
            "trigger": trigger,
            "checked": result.checked,
            "ok": result.ok,
            "bad_chain": result.bad_chain,
            "bad_seq": result.bad_seq,
            "problem": result.problem,
        },
    )
    return result


def list_journal(actor, *, action: str = "", actor_label: str = "", outcome: str = "", object_ref: str = ""):
    require(actor, AUDIT_VIEW)
    qs = AuditEntry.objects.order_by("-id")
    if action:
        qs = qs.filter(action__startswith=action)
    if actor_label:
        qs = qs.filter(actor_label=actor_label)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if object_ref:
        qs = qs.filter(object_ref=object_ref)
    return qs


def latest_checkpoint(actor) -> AuditCheckpoint | None:
    require(actor, AUDIT_VIEW)
    return AuditCheckpoint.objects.first()


def set_calendar_day(actor, *, date: dt.date, is_working_day: bool, name: str = "") -> CalendarOverride:
    """Record an administrator's ruling on one date (a holiday or an adjusted working day)."""
    require(actor, CALENDAR_MANAGE)
    if not isinstance(date, dt.date):
        raise InvalidInput.single("date", "invalid", _("Enter a valid date."))
    if not calendar.FIRST_DAY <= date <= calendar.LAST_DAY:
        raise InvalidInput.single("date", "range", RANGE_MESSAGE)
    if len(name) > 60:
        raise InvalidInput.single("name", "max_length", _("The name has at most 60 characters."))
    with audit.audited(
        "core.calendar.set_day",
        actor=actor,
        object_type="calendar_day",
        object_ref=date.isoformat(),
        detail={"working": is_working_day, "name": name},
    ):
        override, _created = CalendarOverride.objects.update_or_create(
            date=date, defaults={"is_working_day": is_working_day, "name": name}
        )
    calendar.invalidate()
    return override


def clear_calendar_day(actor, *, date: dt.date) -> None:
    require(actor, CALENDAR_MANAGE)
    with audit.audited(
        "core.calendar.clear_day", actor=actor, object_type="calendar_day", object_ref=date.isoformat()
    ):
        CalendarOverride.objects.filter(date=date).delete()
    calendar.invalidate()


def confirm_calendar_year(actor, *, year: int, source: str = "") -> CalendarYear:
    """Declare a year's official arrangement fully entered, which silences the missing-year warning."""
    require(actor, CALENDAR_MANAGE)
    if not calendar.FIRST_DAY.year <= year <= calendar.LAST_DAY.year:
        raise InvalidInput.single("year", "range", _("The year is outside the supported calendar range."))
    with audit.audited(
        "core.calendar.confirm_year",
        actor=actor,
        object_type="calendar_year",
        object_ref=str(year),
        detail={"source": source},
    ):
        item, _created = CalendarYear.objects.update_or_create(
            year=year, defaults={"confirmed": True, "source": source}
        )
    calendar.invalidate()
    return item
