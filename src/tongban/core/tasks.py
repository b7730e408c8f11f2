"""Periodic kernel jobs, run by the Huey consumer (`tongban worker`, or inside `tongban serve`)."""

import datetime as dt

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import calendar, services
from .authz import SYSTEM


def local_crontab(**fields):
    """Huey's crontab, read in the site's time zone: Huey hands periodic checks naive UTC times."""
    matches = crontab(**fields)

    def validate(naive_utc: dt.datetime) -> bool:
        local = naive_utc.replace(tzinfo=dt.UTC).astimezone(calendar.local_tz()).replace(tzinfo=None)
        return matches(local)

    return validate


@db_periodic_task(local_crontab(**settings.AUDIT_VERIFY_CRON), name="core.nightly_audit_verification")
def nightly_audit_verification():
    """Proves every night that the journal is intact and still extends every signed anchor; a break
    is logged at ERROR and kept as a checkpoint and a failed journal entry."""
    result = services.verify_journal(SYSTEM, trigger="schedule", check_anchors=True)
    report = result.anchor_report
    return {
        "ok": result.ok,
        "checked": result.checked,
        "problem": result.message,
        "anchors": {"anchors": report.anchors, "valid": report.valid, "broken": report.broken},
    }


@db_task(name="core.verify_journal_now")
def verify_journal_now(trigger: str = "queue"):
    result = services.verify_journal(SYSTEM, trigger=trigger)
    return {"ok": result.ok, "checked": result.checked, "problem": result.message}
