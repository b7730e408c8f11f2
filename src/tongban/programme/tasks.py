"""The programme office's nightly job, run by the Huey consumer (`tongban worker`)."""

from django.conf import settings
from huey.contrib.djhuey import db_periodic_task

from tongban.core.authz import SYSTEM
from tongban.core.tasks import local_crontab

from . import services


@db_periodic_task(local_crontab(**settings.TONGBAN_PROGRAMME_KPI_CRON), name="programme.nightly_kpis")
def nightly_kpis():
    """Measure every open KPI-bound task from the event log (through insight's KPIs)."""
    results = services.measure_kpis(SYSTEM)
    return {"measured": len(results), "achieved": [r.task.code for r in results if r.achieved]}


@db_periodic_task(
    local_crontab(**settings.TONGBAN_CONSULTATION_REMINDER_CRON), name="programme.consultation_reminders"
)
def consultation_reminders():
    """Remind planners of consultations whose comments are due (yellow) or overdue (red) for an answer."""
    from . import consultation

    return {"sent": consultation.send_feedback_reminders(SYSTEM)}


@db_periodic_task(local_crontab(**settings.TONGBAN_PROGRAMME_WEEKLY_CRON), name="programme.weekly_reminders")
def weekly_reminders():
    """Remind task owners, the working day before, of the weekly reports they have not filed."""
    from . import weekly

    return {"reminded": weekly.send_reminders(SYSTEM)}
