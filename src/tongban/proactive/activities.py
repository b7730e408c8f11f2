"""What can happen to a benefit granted without an application (免申即享), on the core event log."""

from django.utils.translation import gettext_lazy as _

from tongban.core import events

KIND = "benefit"
APP = "proactive"

events.subject_kind(KIND, _("benefit (免申即享)"), app=APP)

GRANTED = "benefit.granted"
CONTESTED = "benefit.contested"
CONFIRMED = "benefit.confirmed"
WITHDRAWN = "benefit.withdrawn"
ACCEPTED = "benefit.accepted"
DECLINED = "benefit.declined"

events.activity(
    GRANTED,
    _("benefit granted without application"),
    subject_kind=KIND,
    app=APP,
    detail={"policy": "str", "run": "str"},
)
events.activity(
    CONTESTED, _("grant contested by the beneficiary"), subject_kind=KIND, app=APP, detail={"policy": "str"}
)
events.activity(
    CONFIRMED, _("contest reviewed: grant confirmed"), subject_kind=KIND, app=APP, detail={"policy": "str"}
)
events.activity(
    WITHDRAWN, _("contest reviewed: grant withdrawn"), subject_kind=KIND, app=APP, detail={"policy": "str"}
)
events.activity(
    ACCEPTED, _("grant accepted by the beneficiary"), subject_kind=KIND, app=APP, detail={"policy": "str"}
)
events.activity(
    DECLINED, _("grant declined by the beneficiary"), subject_kind=KIND, app=APP, detail={"policy": "str"}
)
