"""12345 work order endpoints: intake by other systems (and the centre's tools), then every step of
an order's handling. Thin over hotline.services: the same checks as the pages. Contact numbers are
always masked here; the full number is read through /contact, which is journalled."""

import datetime as dt

from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate
from ninja.security import HttpBearer

from tongban.core import events
from tongban.core.edge import BodyTooLarge

from . import city_events, duplicates, services

router = Router(tags=["hotline"])


class OrderIn(Schema):
    channel: str = Field(
        "api", description="phone, api, app, open311, city_event (centre); portal, app (citizen)"
    )
    text: str
    order_type: str = Field(..., description="consultation, help, complaint, report, suggestion, praise")
    urgency: str = Field("normal", description="critical (特急), urgent (紧急), normal (一般)")
    requester_name: str = ""
    anonymous: bool = False
    phone: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    region_code: str = ""
    category: str = Field("", description="一级/二级/三级 path of the taxonomy")
    department_code: str = ""
    suggested_category: str = ""
    suggestion_confidence: float | None = None
    dispatch: bool = False


class AssignmentOut(Schema):
    department: str
    department_name: str
    role: str
    status: str
    round: int
    dispatched_at: dt.datetime
    return_reason: str
    arbitration: str
    outcome: str


class OrderOut(Schema):
    number: str
    channel: str
    order_type: str
    urgency: str
    status: str
    requester: str
    anonymous: bool
    phone: str = Field(..., description="masked")
    text: str
    address: str
    latitude: float | None
    longitude: float | None
    region: str
    category: str
    department: str
    received_at: dt.datetime
    first_contact_due: dt.datetime
    first_contacted_at: dt.datetime | None
    resolution_due: dt.datetime
    clock: str = Field(..., description="green, yellow, red while open")
    reply_text: str
    outcome: str
    closed_at: dt.datetime | None
    reopen_count: int
    assignments: list[AssignmentOut] = []


def _out(actor, order, *, with_assignments: bool = False) -> dict:
    data = {
        "number": order.number,
        "channel": order.channel,
        "order_type": order.order_type,
        "urgency": order.urgency,
        "status": order.status,
        "requester": services.requester_label(actor, order),
        "anonymous": order.anonymous,
        "phone": order.phone_masked,
        "text": order.text,
        "address": order.address,
        "latitude": float(order.latitude) if order.latitude is not None else None,
        "longitude": float(order.longitude) if order.longitude is not None else None,
        "region": order.region_id or "",
        "category": order.category.path if order.category_id else "",
        "department": order.department.code if order.department_id else "",
        "received_at": order.received_at,
        "first_contact_due": order.first_contact_due,
        "first_contacted_at": order.first_contacted_at,
        "resolution_due": order.resolution_due,
        "clock": services.clock_status(order),
        "reply_text": order.reply_text,
        "outcome": order.outcome,
        "closed_at": order.closed_at,
        "reopen_count": order.reopen_count,
        "assignments": [],
    }
    if with_assignments:
        data["assignments"] = [
            {
                "department": a.department.code,
                "department_name": a.department.name,
                "role": a.role,
                "status": a.status,
                "round": a.round,
                "dispatched_at": a.dispatched_at,
                "return_reason": a.return_reason,
                "arbitration": a.arbitration,
                "outcome": a.outcome,
            }
            for a in order.assignments.select_related("department")
        ]
    return data


def _full(request, order) -> dict:
    return _out(request.auth, order, with_assignments=True)


@router.post("/hotline/orders", response={201: OrderOut}, summary="Record a work order (工单)")
def create_order(request, payload: OrderIn):
    order = services.create_order(request.auth, **payload.dict())
    return Status(201, _full(request, order))


class BatchOrderIn(Schema):
    """One order of a batch: the fields of OrderIn but the channel, which the batch gives."""

    text: str
    order_type: str = Field(..., description="consultation, help, complaint, report, suggestion, praise")
    urgency: str = "normal"
    requester_name: str = ""
    anonymous: bool = False
    phone: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    region_code: str = ""
    category: str = ""
    department_code: str = ""
    suggested_category: str = ""
    suggestion_confidence: float | None = None
    dispatch: bool = False


class BatchIn(Schema):
    channel: str = Field("api", description="api, app, open311, city_event, phone")
    accept_suggestions: bool = Field(
        False, description="an order without a category takes the router's confident suggestion"
    )
    orders: list[BatchOrderIn] = Field(..., description=f"at most {services.BATCH_MAX}")


class BatchOut(Schema):
    count: int
    orders: list[OrderOut]


@router.post(
    "/hotline/orders/batch",
    response={201: BatchOut},
    summary="Record many work orders at once (a system's bulk intake): all or nothing",
)
def create_orders(request, payload: BatchIn):
    orders = services.receive_many(
        request.auth,
        [o.dict() for o in payload.orders],
        channel=payload.channel,
        accept_suggestions=payload.accept_suggestions,
    )
    return Status(201, {"count": len(orders), "orders": [_out(request.auth, o) for o in orders]})


@router.get("/hotline/orders", response=list[OrderOut], summary="The work orders the caller may see")
@paginate(PageNumberPagination, page_size=50)
def list_orders(request, status: str = "", department: str = "", q: str = ""):
    actor = request.auth
    return [
        _out(actor, o) for o in services.worklist(actor, status=status, department=department, q=q)[:1000]
    ]


@router.get("/hotline/orders/{number}", response=OrderOut, summary="One work order")
def get_order(request, number: str):
    return _full(request, services.access_order(request.auth, number))


class OrderEventOut(Schema):
    activity: str
    label: str
    at: dt.datetime
    actor: str
    department: str
    detail: dict


@router.get("/hotline/orders/{number}/events", response=list[OrderEventOut], summary="The order's history")
def order_events(request, number: str):
    _order, history = services.history(request.auth, number)
    return [
        {
            "activity": e.activity,
            "label": str(events.label(e.activity)),
            "at": e.occurred_at,
            "actor": e.actor_label,
            "department": e.department_code,
            "detail": e.detail,
        }
        for e in history
    ]


class ContactOut(Schema):
    phone: str


@router.get(
    "/hotline/orders/{number}/contact", response=ContactOut, summary="The full contact number (journalled)"
)
def order_contact(request, number: str):
    return {"phone": services.reveal_contact(request.auth, number)}


class DispatchIn(Schema):
    lead: str
    co: list[str] = []
    category: str = ""


@router.post("/hotline/orders/{number}/dispatch", response=OrderOut, summary="派单 (centre)")
def dispatch(request, number: str, payload: DispatchIn):
    return _full(request, services.dispatch(request.auth, number, **payload.dict()))


@router.post("/hotline/orders/{number}/accept", response=OrderOut, summary="Accept (department)")
def accept(request, number: str):
    return _full(request, services.accept(request.auth, number))


@router.post("/hotline/orders/{number}/contact", response=OrderOut, summary="Record the first contact")
def record_contact(request, number: str):
    return _full(request, services.record_contact(request.auth, number))


class ReasonIn(Schema):
    reason: str


@router.post("/hotline/orders/{number}/return", response=OrderOut, summary="退单 (department)")
def return_order(request, number: str, payload: ReasonIn):
    return _full(request, services.return_order(request.auth, number, reason=payload.reason))


class ArbitrateIn(Schema):
    uphold: bool
    department: str = ""
    note: str = ""


@router.post("/hotline/orders/{number}/arbitrate", response=OrderOut, summary="Arbitrate a 退单 (centre)")
def arbitrate(request, number: str, payload: ArbitrateIn):
    return _full(request, services.arbitrate(request.auth, number, **payload.dict()))


@router.post("/hotline/orders/{number}/extension", response=OrderOut, summary="Approve an extension (centre)")
def extension(request, number: str):
    return _full(request, services.approve_extension(request.auth, number))


class ReplyIn(Schema):
    text: str
    outcome: str = Field(..., description="solved, partly_solved, unsolved, unfounded")


@router.post("/hotline/orders/{number}/reply", response=OrderOut, summary="答复 (department)")
def reply(request, number: str, payload: ReplyIn):
    return _full(request, services.reply(request.auth, number, text=payload.text, outcome=payload.outcome))


class ReviewIn(Schema):
    accept: bool
    reason: str = ""


@router.post("/hotline/orders/{number}/review", response=OrderOut, summary="Review the reply (centre)")
def review(request, number: str, payload: ReviewIn):
    return _full(request, services.review(request.auth, number, accept=payload.accept, reason=payload.reason))


class CallbackIn(Schema):
    contacted: bool
    solved: str = Field("", description="solved, partly, unsolved")
    satisfaction: str = Field("", description="satisfied, basically_satisfied, dissatisfied")
    note: str = ""
    close_unreached: bool = False


@router.post("/hotline/orders/{number}/callback", response=OrderOut, summary="回访 (centre)")
def callback(request, number: str, payload: CallbackIn):
    return _full(request, services.callback(request.auth, number, **payload.dict()))


@router.post("/hotline/orders/{number}/reopen", response=OrderOut, summary="重办 (centre)")
def reopen(request, number: str, payload: ReasonIn):
    return _full(request, services.reopen(request.auth, number, reason=payload.reason))


class AnswerIn(Schema):
    reply_text: str
    knowledge_ref: str = Field("", description="the knowledge base entry used: reply:<ref> or policy:<ref>")


@router.post("/hotline/orders/{number}/answer", response=OrderOut, summary="直接办结 (centre)")
def answer(request, number: str, payload: AnswerIn):
    return _full(request, services.answer_on_spot(request.auth, number, **payload.dict()))


class AnsweredCallIn(OrderIn):
    reply_text: str
    knowledge_ref: str = ""


@router.post(
    "/hotline/answered-calls",
    response={201: OrderOut},
    summary="直接办结 during the call: a consultation recorded and closed with its answer (centre)",
)
def answered_call(request, payload: AnsweredCallIn):
    data = payload.dict()
    data.pop("dispatch", None)
    return Status(201, _full(request, services.answer_call(request.auth, **data)))


class KnowledgeOut(Schema):
    key: str = Field(..., description="reply:<ref> or policy:<ref>, for knowledge_ref")
    kind: str
    ref: str
    title: str
    question: str
    answer: str
    source: str
    score: float


@router.get(
    "/hotline/knowledge", response=list[KnowledgeOut], summary="Knowledge base entries like a text (centre)"
)
def knowledge(request, text: str):
    return [
        {
            "key": h.key,
            "kind": h.kind,
            "ref": h.ref,
            "title": h.title,
            "question": h.question,
            "answer": h.answer,
            "source": h.source,
            "score": h.score,
        }
        for h in duplicates.knowledge_for(request.auth, text)
    ]


class SuggestIn(Schema):
    text: str


class SuggestOut(Schema):
    category: str = Field(..., description="first-level category; empty when the router abstains")
    confidence: float
    department: str
    department_name: str
    abstained: bool
    ranked: list[tuple[str, float]]
    model_version: int


@router.post("/hotline/route", response=SuggestOut, summary="The router's suggestion for a message (centre)")
def suggest_route(request, payload: SuggestIn):
    s = services.suggest_route(request.auth, payload.text)
    return {
        "category": s.category,
        "confidence": s.confidence,
        "department": s.department_code,
        "department_name": s.department_name,
        "abstained": s.abstained,
        "ranked": list(s.ranked),
        "model_version": s.model_version,
    }


# --- city events (城市事件): CloudEvents from sensor and video systems ------------------------------


class EventSystemAuth(HttpBearer):
    """`Authorization: Bearer ce_…`: the token the centre issued to one event system."""

    def authenticate(self, request, token):
        return city_events.authenticate(token)


class CityOrderOut(Schema):
    number: str
    status: str = Field(..., description="the work order's status (registered … closed)")
    status_label: str
    open: bool
    category: str
    department: str
    department_name: str
    urgency: str
    received_at: dt.datetime
    resolution_due: dt.datetime
    replied_at: dt.datetime | None
    closed_at: dt.datetime | None
    outcome: str = Field(..., description="solved, partly_solved, unsolved, unfounded once replied")
    reply_text: str
    events: int = Field(..., description="this system's events the order holds (repeats join it)")
    opened_as: str = Field("", description="the order the event first opened, when the centre merged it")


class CityEventOut(Schema):
    id: str
    source: str
    type: str
    subject: str
    time: dt.datetime | None
    received_at: dt.datetime
    outcome: str = Field(..., description="created (a new order), merged (joined an open one), ignored")
    rule: str
    duplicate: bool = Field(False, description="true when this delivery repeated an event already taken")
    order: CityOrderOut | None


def _city_order(system, order, *, count: int | None = None) -> dict | None:
    if order is None:
        return None
    first = order
    order = city_events.final_order(order)
    if count is None:
        count = order.city_events.filter(system=system).count() + (
            first.city_events.filter(system=system).count() if first.pk != order.pk else 0
        )
    return {
        "number": order.number,
        "status": order.status,
        "status_label": str(order.get_status_display()),
        "open": order.is_open,
        "category": order.category.path if order.category_id else "",
        "department": order.department.code if order.department_id else "",
        "department_name": order.department.name if order.department_id else "",
        "urgency": order.urgency,
        "received_at": order.received_at,
        "resolution_due": order.resolution_due,
        "replied_at": order.replied_at,
        "closed_at": order.closed_at,
        "outcome": order.outcome,
        "reply_text": order.reply_text,
        "events": count,
        "opened_as": first.number if first.pk != order.pk else "",
    }


def _city_event(system, event, *, duplicate: bool = False) -> dict:
    return {
        "id": event.event_id,
        "source": event.source,
        "type": event.event_type,
        "subject": event.subject,
        "time": event.occurred_at,
        "received_at": event.received_at,
        "outcome": event.outcome,
        "rule": event.rule_name,
        "duplicate": duplicate,
        "order": _city_order(system, event.order),
    }


@router.post(
    "/hotline/city-events",
    auth=EventSystemAuth(),
    response={200: CityEventOut, 201: CityEventOut},
    summary="Post a city event (CloudEvents 1.0, structured JSON mode; bearer token of an event system)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/cloudevents+json": {"schema": {"type": "object"}}},
        }
    },
)
def post_city_event(request):
    system = request.auth
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > city_events.MAX_BODY:
        raise BodyTooLarge()
    body = request.body
    if len(body) > city_events.MAX_BODY:
        raise BodyTooLarge()
    envelope = city_events.parse_body(body, request.content_type or request.META.get("CONTENT_TYPE", ""))
    event, new = city_events.ingest(city_events.system_actor(system), system=system, envelope=envelope)
    return Status(201 if new else 200, _city_event(system, event, duplicate=not new))


@router.get(
    "/hotline/city-events",
    auth=EventSystemAuth(),
    response=CityEventOut,
    summary="One of the system's events by its id (and source), with its order's status",
)
def get_city_event(request, id: str, source: str = ""):
    system = request.auth
    return _city_event(system, city_events.event_status(system, id, source=source))


@router.get(
    "/hotline/city-event-orders/{number}",
    auth=EventSystemAuth(),
    response=CityOrderOut,
    summary="The status of an order the system's events opened or joined",
)
def get_city_event_order(request, number: str):
    system = request.auth
    order, count = city_events.order_status(system, number)
    return _city_order(system, order, count=count)


class EventRuleIn(Schema):
    name: str
    event_type: str = Field(..., description="the CloudEvents type, e.g. cn.gov.gaxq.water.level")
    condition: str = Field("", description="FEEL over data, subject, source, type, time; empty: always")
    category: str = Field(..., description="一级/二级/三级 path of the taxonomy")
    department_code: str = Field("", description="empty: the category's department")
    urgency: str = "urgent"
    order_type: str = "help"
    priority: int = 100
    merge_hours: int = 24
    merge_metres: int = 200
    active: bool = True


class EventRuleOut(Schema):
    name: str
    event_type: str
    condition: str
    category: str
    department: str
    urgency: str
    order_type: str
    priority: int
    merge_hours: int
    merge_metres: int
    active: bool


def _rule_out(rule) -> dict:
    return {
        "name": rule.name,
        "event_type": rule.event_type,
        "condition": rule.condition,
        "category": rule.category.path,
        "department": rule.department.code if rule.department_id else "",
        "urgency": rule.urgency,
        "order_type": rule.order_type,
        "priority": rule.priority,
        "merge_hours": rule.merge_hours,
        "merge_metres": rule.merge_metres,
        "active": rule.active,
    }


@router.get("/hotline/event-rules", response=list[EventRuleOut], summary="The city event rules (centre)")
def list_event_rules(request):
    return [_rule_out(r) for r in city_events.rules(request.auth)]


@router.post(
    "/hotline/event-rules", response={200: EventRuleOut}, summary="Add or change a city event rule (centre)"
)
def define_event_rule(request, payload: EventRuleIn):
    return _rule_out(city_events.define_rule(request.auth, **payload.dict()))


class MachineFoundOut(Schema):
    rate: float | None = Field(..., description="智能发现率: from_events / covered; null when none covered")
    from_events: int
    covered: int
    categories: list[str]


@router.get("/hotline/machine-found", response=MachineFoundOut, summary="智能发现率 for a period")
def machine_found(request, start: dt.date, end: dt.date):
    tz = timezone.get_current_timezone()
    figure = city_events.machine_found(
        request.auth,
        start=dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        end=dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )
    return {
        "rate": figure.rate,
        "from_events": figure.from_events,
        "covered": figure.covered,
        "categories": list(figure.categories),
    }
