"""Background jobs of case handling, run by the Huey consumer (`tongban worker` or `tongban serve`)."""

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import services


@db_periodic_task(crontab(minute=f"*/{settings.TONGBAN_SWEEP_MINUTES}"), name="cases.sweep_deadlines")
def sweep_deadlines():
    """催办 at 50 % / 80 % of each step's limit, escalations when overdue, overdue 容缺 alerts."""
    return services.sweep()


@db_task(name="cases.render_document")
def render_document(number: str):
    return services.record_document(number)
