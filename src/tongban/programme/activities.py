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
WEEKLY_REPORTED = "programme_task.weekly_reported"
WEEKLY_REMINDED = "programme_task.weekly_reminded"
_activity(WEEKLY_REPORTED, _("weekly report filed"), week="str", percent="int", files="int")
_activity(WEEKLY_REMINDED, _("weekly report reminder sent"), week="str", due="str", recipients="int")
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

# --- public consultation (意见征集): one subject per consultation, its comments by number ------------

CONSULTATION = "consultation"
events.subject_kind(CONSULTATION, _("public consultation"), app=APP)


def _consultation(code: str, label, nullable: dict[str, str] | None = None, **detail: str) -> None:
    detail.update({f"{key}?": kind for key, kind in (nullable or {}).items()})
    events.activity(code, label, subject_kind=CONSULTATION, app=APP, detail=detail)


CONSULTATION_CREATED = "consultation.created"
CONSULTATION_PUBLISHED = "consultation.published"
COMMENT_RECEIVED = "consultation.comment_received"
COMMENT_MODERATED = "consultation.comment_moderated"
COMMENT_ANSWERED = "consultation.comment_answered"
FEEDBACK_REMINDED = "consultation.feedback_reminded"
REPORT_PUBLISHED = "consultation.report_published"

_consultation(CONSULTATION_CREATED, _("consultation drafted"), opens="str", closes="str", feedback_days="int")
_consultation(CONSULTATION_PUBLISHED, _("consultation published"), opens="str", closes="str")
_consultation(COMMENT_RECEIVED, _("comment received"), comment="int", anonymous="bool")
_consultation(
    COMMENT_MODERATED, _("comment moderated"), nullable={"reason": "str"}, comment="int", moderation="str"
)
_consultation(
    COMMENT_ANSWERED, _("commenter answered (反馈)"), comment="int", decision="str", due="str", on_time="bool"
)
_consultation(FEEDBACK_REMINDED, _("feedback reminder sent"), light="str", pending="int", recipients="int")
_consultation(
    REPORT_PUBLISHED, _("adoption report published (公示)"), comments="int", adopted="int", on_time="int"
)
