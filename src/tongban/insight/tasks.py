"""Background jobs of efficiency insight, run by the Huey consumer."""

import datetime as dt

from huey.contrib.djhuey import db_periodic_task, db_task

from tongban.core.authz import SYSTEM
from tongban.core.tasks import local_crontab

from . import services


@db_periodic_task(local_crontab(day="1", hour="6", minute="0"), name="insight.monthly_report")
def monthly_report():
    """On the 1st at 06:00: last month's 效能月报 (XLSX and PDF) into var/insight/reports."""
    last_month = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    xlsx, pdf = services.monthly_report(SYSTEM, last_month.year, last_month.month)
    return [str(xlsx), str(pdf)]


@db_periodic_task(local_crontab(minute="*/5"), name="insight.cockpit_refresh")
def cockpit_refresh():
    """Every five minutes: the cockpit's daily counts take in the events written since the last run."""
    from . import cockpit

    return cockpit.refresh()


@db_periodic_task(local_crontab(hour="1", minute="30"), name="insight.cockpit_forecasts")
def cockpit_forecasts():
    """At 01:30: the counts recounted from the whole event log, and the next weeks' volume forecast
    for the region and each bureau with its backtest."""
    from . import cockpit

    return cockpit.make_forecasts()


@db_task(name="insight.cockpit_forecasts_now")
def cockpit_forecasts_now():
    """Today's forecasts when the nightly job has not made them (a new install, a missed night)."""
    from . import cockpit

    if cockpit.needs_forecasts():
        return cockpit.make_forecasts()
    return 0
