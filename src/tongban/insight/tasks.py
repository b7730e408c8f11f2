"""Background jobs of efficiency insight, run by the Huey consumer."""

import datetime as dt

from huey.contrib.djhuey import db_periodic_task

from tongban.core.authz import SYSTEM
from tongban.core.tasks import local_crontab

from . import services


@db_periodic_task(local_crontab(day="1", hour="6", minute="0"), name="insight.monthly_report")
def monthly_report():
    """On the 1st at 06:00: last month's 效能月报 (XLSX and PDF) into var/insight/reports."""
    last_month = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    xlsx, pdf = services.monthly_report(SYSTEM, last_month.year, last_month.month)
    return [str(xlsx), str(pdf)]
