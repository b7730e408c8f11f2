"""Background jobs of case handling, run by the Huey consumer (`tongban worker` or `tongban serve`)."""

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import services


@db_periodic_task(crontab(minute=f"*/{settings.TONGBAN_SWEEP_MINUTES}"), name="cases.sweep_deadlines")
def sweep_deadlines():
    """催办 at 50 % / 80 % of each step's limit, escalations when overdue, overdue 容缺 alerts."""
    return services.sweep()


@db_task(name="cases.render_document", retries=3, retry_delay=30)
def render_document(number: str):
    """The decision document after 出件; retried if the database is busy (on the embedded SQLite a
    long write burst, such as the demo's history loading, can outlast the lock timeout)."""
    return services.record_document(number)


@db_task(name="cases.hand_over_licence", retries=3, retry_delay=30)
def hand_over_licence(number: str, licence_type: str):
    """After 出件 of a licence-bearing case: the licence library signs and stores the licence;
    retried if the database hiccups."""
    return services.hand_over_licence(number, licence_type)


@db_task(name="cases.revoke_licences", retries=3, retry_delay=30)
def revoke_licences(number: str, reason: str):
    """A revoked approval (failed 事后核查) revokes the licences issued from it."""
    return services.revoke_case_licences(number, reason)


@db_periodic_task(crontab(hour="3", minute="40"), name="cases.purge_expired_drafts")
def purge_expired_drafts():
    """暂存 applications nobody saved for TONGBAN_DRAFT_DAYS go, with their stored files."""
    return services.purge_expired_drafts()


@db_task(name="cases.precheck_case")
def precheck_case(number: str):
    """智能预审: read the case's uploaded materials with OCR and record the findings."""
    from .services import prechecks

    return prechecks.run_case(number)
