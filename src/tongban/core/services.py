"""Kernel use cases: verifying the audit journal and administering the working-day calendar."""

import datetime as dt
import logging

from django.utils.translation import gettext_lazy as _

from . import anchors, audit, calendar
from .authz import require
from .errors import InvalidInput
from .models import AuditCheckpoint, AuditEntry, CalendarOverride, CalendarYear

log = logging.getLogger(__name__)

RANGE_MESSAGE = _("The date is outside the supported calendar range.")

AUDIT_VIEW = "audit.view"
AUDIT_VERIFY = "audit.verify"
CALENDAR_MANAGE = "calendar.manage"


def verify_journal(
    actor, *, trigger: str, progress=None, check_anchors: bool = False, anchor_source=None
) -> audit.VerifyResult:
    """Verify every chain, keep the result as a checkpoint, sign an anchor into the log outside the
    database, and journal the check itself. With `check_anchors`, also check every earlier anchor
    against the journal as it stands (core.anchors): that is what finds a database put back to an
    older copy, or a journal whose newest entries were cut off with the heads moved back to match.
    `anchor_source` checks another copy of the anchor log (a file or folder) instead of the usual one.
    """
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
        log.info("audit journal intact: %s entries, anchor %s", result.checked, result.anchor)
        try:
            _record, path = anchors.write(
                "anchor", heads=result.heads, entries=result.checked, trigger=trigger
            )
            result.anchor_log = str(path)
        except OSError as exc:
            result.anchor_error = f"the signed anchor could not be written to {anchors.anchor_dir()}: {exc}"
            log.error("AUDIT ANCHOR NOT WRITTEN: %s", result.anchor_error)
    else:
        log.error("AUDIT JOURNAL BROKEN: %s", result.message)
    report = None
    if check_anchors:
        report = anchors.check(anchor_source)
        result.anchor_report = report
        first = report.first_broken()
        if first is not None:
            log.error(
                "AUDIT ANCHORS BROKEN: %s of %s anchors in %s; first: %s %s",
                report.broken,
                report.anchors,
                report.source,
                first.where,
                first.message,
            )
    detail = {
        "trigger": trigger,
        "checked": result.checked,
        "ok": result.ok,
        "bad_chain": result.bad_chain,
        "bad_seq": result.bad_seq,
        "problem": result.problem,
        "anchor_logged": bool(result.anchor_log),
    }
    if report is not None:
        detail.update(anchors=report.anchors, anchors_valid=report.valid, anchors_broken=report.broken)
    audit.record(
        "core.audit.verify",
        actor=actor,
        outcome="success" if result.ok and (report is None or report.ok) else "failed",
        object_type="audit_journal",
        object_ref=str(result.checked),
        detail=detail,
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
