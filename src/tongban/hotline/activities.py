"""What can happen to a work order, as registered on the core event log (insight mines them)."""

from django.utils.translation import gettext_lazy as _

from tongban.core import events

KIND = "work_order"
APP = "hotline"

events.subject_kind(KIND, _("work order"), app=APP)


def _activity(code: str, label, nullable: dict[str, str] | None = None, **detail: str) -> None:
    detail.update({f"{key}?": kind for key, kind in (nullable or {}).items()})
    events.activity(code, label, subject_kind=KIND, app=APP, detail=detail)


RECEIVED = "work_order.received"
ROUTED = "work_order.routed"
ANSWERED = "work_order.answered"
DISPATCHED = "work_order.dispatched"
ACCEPTED = "work_order.accepted"
CONTACTED = "work_order.contacted"
RETURNED = "work_order.returned"
ARBITRATED = "work_order.arbitrated"
EXTENDED = "work_order.extended"
REPLIED = "work_order.replied"
REVIEW_ACCEPTED = "work_order.review_accepted"
SENT_BACK = "work_order.sent_back"
CALLBACK = "work_order.callback"
CLOSED = "work_order.closed"
REOPENED = "work_order.reopened"

_activity(
    RECEIVED,
    _("work order received"),
    order_type="str",
    urgency="str",
    category="str",
    region="str",
    anonymous="bool",
)
_activity(
    ROUTED,
    _("category confirmed"),
    suggested="str",
    chosen="str",
    accepted="bool",
    nullable={"confidence": "number"},
)
_activity(ANSWERED, _("answered on the spot (直接办结)"), nullable={"knowledge": "str"})
_activity(DISPATCHED, _("dispatched (派单)"), role="str", round="int", rule="str")
_activity(ACCEPTED, _("accepted by the department"), role="str")
_activity(CONTACTED, _("requester first contacted"), within_limit="bool")
_activity(RETURNED, _("returned by the department (退单)"), reason="str")
_activity(ARBITRATED, _("return arbitrated"), decision="str", returned_by="str")
_activity(EXTENDED, _("extension approved"), working_days="int")
_activity(REPLIED, _("department replied (答复)"), outcome="str", role="str")
_activity(REVIEW_ACCEPTED, _("reply accepted by the centre"))
_activity(SENT_BACK, _("reply sent back by the centre"), reason="str")
_activity(CALLBACK, _("callback (回访)"), contacted="bool", solved="str", satisfaction="str", lead="str")
_activity(CLOSED, _("work order closed (办结)"), outcome="str", within_limit="bool")
_activity(REOPENED, _("reopened (重办)"), reason="str", lead="str", round="int")

# near-duplicates and hotspots (duplicates.py)
DUPLICATE_SUSPECTED = "work_order.duplicate_suspected"
DUPLICATE_REJECTED = "work_order.duplicate_rejected"
MERGED = "work_order.merged"
REQUESTER_ADDED = "work_order.requester_added"
HOTSPOT_WARNING = "work_order.hotspot_warning"

_activity(DUPLICATE_SUSPECTED, _("possible duplicate found"), target="str", score="number")
_activity(DUPLICATE_REJECTED, _("not a duplicate (centre)"), target="str")
_activity(MERGED, _("merged into another order (合并)"), into="str")
_activity(REQUESTER_ADDED, _("requester added"), role="str", source="str")
_activity(HOTSPOT_WARNING, _("hotspot warning (热点预警)"), cluster="str", recent="int", baseline="number")

# city events (city_events.py): an event a rule turned into an order, or a repeat that joined it
CITY_EVENT = "work_order.city_event"

_activity(
    CITY_EVENT,
    _("city event (城市事件)"),
    source="str",
    event_id="str",
    event_type="str",
    rule="str",
    repeat="bool",
)
