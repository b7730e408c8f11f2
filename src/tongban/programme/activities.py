"""What can happen to a programme task, as registered on the core event log (insight mines them)."""

from django.utils.translation import gettext_lazy as _

from tongban.core import events

KIND = "programme_task"
APP = "programme"

events.subject_kind(KIND, _("programme task"), app=APP)


def _activity(code: str, label, nullable: dict[str, str] | None = None, **detail: str) -> None:
    detail.update({f"{key}?": kind for key, kind in (nullable or {}).items()})
    events.activity(code, label, subject_kind=KIND, app=APP, detail=detail)


PLANNED = "programme_task.planned"
RESCHEDULED = "programme_task.rescheduled"
PROGRESSED = "programme_task.progressed"
KPI_MEASURED = "programme_task.kpi_measured"
KPI_ACHIEVED = "programme_task.kpi_achieved"
WARNED = "programme_task.warned"

_activity(
    PLANNED,
    _("task planned"),
    project="str",
    kind="str",
    start="str",
    finish="str",
    duration="int",
    source="str",
)
_activity(
    RESCHEDULED,
    _("task rescheduled"),
    start="str",
    finish="str",
    shift="int",
    cause="str",
)
_activity(PROGRESSED, _("progress reported"), percent="int", status="str")
_activity(
    KPI_MEASURED,
    _("KPI measured"),
    nullable={"value": "number"},
    kpi="str",
    target="number",
    met="bool",
    cases="int",
)
_activity(KPI_ACHIEVED, _("KPI target achieved"), kpi="str", target="number", held="int")
_activity(WARNED, _("warning letter issued (预警函)"), finish="str", percent="int")
