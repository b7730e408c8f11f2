"""City events (城市事件): CloudEvents posted by sensor and video systems become work orders.

A system (an `EventSystem`, with a bearer token the centre issues: `tongban hotline event-system`)
posts one CloudEvent 1.0 in structured JSON mode. The envelope is checked against the
specification (id, source, specversion "1.0" and type required; time RFC 3339; extension attribute
names lower-case letters and digits) and the source must start with the system's registered
prefix, so no system can post, replay or read another's events. (source, id) identifies an event:
a second delivery changes nothing and is answered with what the first did.

The centre's event rules (`EventRule`, conditions in FEEL — the platform's one rule language)
decide: the first active rule for the event's type whose condition holds makes a work order of its
category, dispatched at once to its department with its urgency (the decision recorded on the
order with the rule's name); a repeat of the same event at the same place while that order is open
joins it instead. An event no rule takes is kept, with outcome "ignored".

The system polls the event (or the order) for the order's status, down to the reply and closing.
The share of orders sensors found (智能发现率) is counted over the categories the rules cover.

Where the event happened: the extension attributes `lat` and `lon` (decimal degrees), `address`
and `region` (a region code), or else the same keys in `data.location`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import urllib.parse
import urllib.request
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from tongban.accounts import roles as perms
from tongban.accounts.models import Department
from tongban.core import audit, crypto
from tongban.core.authz import SystemActor, require
from tongban.core.edge import BadRequest
from tongban.core.errors import Conflict, FieldErrors, Formatted, InvalidInput, NotFound, NotPermitted
from tongban.core.uow import current, use_case
from tongban.rules import RuleError, compile_expression

from . import activities as act
from . import similar
from .models import (
    OPEN_STATUSES,
    Category,
    Channel,
    CityEvent,
    EventOutcome,
    EventRule,
    EventSystem,
    OrderStatus,
    OrderType,
    Urgency,
    WorkOrder,
)
from .services import _coordinate, _event, create_order, department_for, may_read_all, now

KEY_CONTEXT = "hotline.EventSystem.key"
TOKEN_PREFIX = "ce_"  # noqa: S105 (a prefix, not a secret)
MAX_BODY = 64 * 1024  # an event is a reading, not a file
MEDIA_TYPES = ("application/cloudevents+json", "application/json")
SPECVERSION = "1.0"
CONTEXT_ATTRIBUTES = {
    "id",
    "source",
    "specversion",
    "type",
    "datacontenttype",
    "dataschema",
    "subject",
    "time",
}
# CloudEvents 1.0: extension names are lower-case ASCII letters and digits (at most 20 advised).
_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
DATA_TEXT_MAX = 1000


# --- systems and their tokens ----------------------------------------------------------------------


def key_index(token: str) -> str:
    return crypto.blind_index(token, KEY_CONTEXT)


def _overlaps(prefix: str) -> bool:
    """Whether a prefix would let one system post under another's sources."""
    for other in EventSystem.objects.values_list("source_prefix", flat=True):
        if other.startswith(prefix) or prefix.startswith(other):
            return True
    return False


@use_case("hotline.event_system", object_type="event_system")
def register_system(actor, *, name: str, source_prefix: str) -> tuple[EventSystem, str]:
    """A system allowed to post city events, with a fresh token (returned once; only its blind index
    is kept). Its events' `source` must start with `source_prefix`, which no other system's may
    overlap."""
    require(actor, perms.HOTLINE_CENTRE)
    errors = FieldErrors()
    name = errors.require_text("name", name, max_length=100)
    source_prefix = errors.require_text("source_prefix", source_prefix, max_length=200)
    if name and EventSystem.objects.filter(name=name).exists():
        errors.add("name", "exists", _("A system with this name exists already."))
    if source_prefix and len(source_prefix) < 8:
        errors.add("source_prefix", "too_short", Formatted(_("At least %(n)d characters."), {"n": 8}))
    elif source_prefix and _overlaps(source_prefix):
        errors.add("source_prefix", "overlaps", _("This prefix overlaps another system's sources."))
    errors.raise_if_any()
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    system = EventSystem.objects.create(name=name, key_index=key_index(token), source_prefix=source_prefix)
    current().audit.object_ref = name
    current().audit.detail = {"source_prefix": source_prefix}
    return system, token


def authenticate(token: str) -> EventSystem | None:
    token = (token or "").strip()
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    return EventSystem.objects.filter(key_index=key_index(token), active=True).first()


def system_actor(system: EventSystem) -> SystemActor:
    return SystemActor(f"city_event:{system.name}")


# --- rules -----------------------------------------------------------------------------------------


def _compile(errors: FieldErrors, condition: str):
    if not condition:
        return None
    try:
        return compile_expression(condition)
    except RuleError as exc:
        errors.add("condition", exc.code, exc.message)
        return None


@use_case("hotline.event_rule", object_type="event_rule")
def define_rule(
    actor,
    *,
    name: str,
    event_type: str,
    category: str,
    condition: str = "",
    department_code: str = "",
    urgency: str = Urgency.URGENT,
    order_type: str = OrderType.HELP,
    priority: int = 100,
    merge_hours: int = 24,
    merge_metres: int = 200,
    active: bool = True,
) -> EventRule:
    """The centre adds a rule, or changes the one of this name. The condition is FEEL over the
    event (`data.level > 3.5 and subject != null`); it is compiled here, so a rule that cannot be
    read is refused with where it fails, never stored."""
    require(actor, perms.HOTLINE_CENTRE)
    errors = FieldErrors()
    name = errors.require_text("name", name, max_length=100)
    event_type = errors.require_text("event_type", event_type, max_length=200)
    condition = (condition or "").strip()
    if len(condition) > 2000:
        errors.add("condition", "max_length", Formatted(_("At most %(n)d characters."), {"n": 2000}))
    else:
        _compile(errors, condition)
    node = Category.objects.filter(path=str(category or "").strip()).first()
    if node is None:
        errors.add("category", "unknown", _("No category has this name."))
    department = None
    if department_code:
        department = Department.objects.filter(code=department_code, is_active=True).first()
        if department is None:
            errors.add("department_code", "unknown", _("No department has this code."))
    elif node is not None and department_for(node) is None:
        errors.add("department_code", "required", _("The category has no department: choose one."))
    if urgency not in Urgency.values:
        errors.add("urgency", "choice", _("Choose one of the allowed values."))
    if order_type not in OrderType.values:
        errors.add("order_type", "choice", _("Choose one of the allowed values."))
    for field, value, top in (
        ("priority", priority, 10_000),
        ("merge_hours", merge_hours, 24 * 30),
        ("merge_metres", merge_metres, 10_000),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top:
            errors.add(field, "range", Formatted(_("A whole number from 0 to %(n)d."), {"n": top}))
    errors.raise_if_any()
    rule, _created = EventRule.objects.update_or_create(
        name=name,
        defaults={
            "event_type": event_type,
            "condition": condition,
            "category": node,
            "department": department,
            "urgency": urgency,
            "order_type": order_type,
            "priority": priority,
            "merge_hours": merge_hours,
            "merge_metres": merge_metres,
            "active": bool(active),
        },
    )
    current().audit.object_ref = name
    current().audit.detail = {"event_type": event_type, "condition": condition, "category": node.path}
    return rule


def rules(actor) -> list[EventRule]:
    require(actor, perms.HOTLINE_CENTRE)
    return list(EventRule.objects.select_related("category", "department"))


def _context(envelope: dict) -> dict:
    """What a rule's condition reads: the event's data and its context attributes."""
    return {
        "data": envelope.get("data"),
        "subject": envelope.get("subject"),
        "source": envelope["source"],
        "type": envelope["type"],
        "time": envelope.get("time"),
    }


def choose_rule(envelope: dict) -> EventRule | None:
    """The first active rule for the event's type whose condition is true (false and null —
    e.g. a reading the event lacks — are not)."""
    context = _context(envelope)
    for rule in EventRule.objects.filter(event_type=envelope["type"], active=True).select_related(
        "category", "department"
    ):
        if not rule.condition:
            return rule
        try:
            if compile_expression(rule.condition).holds(context):
                return rule
        except RuleError:
            continue
    return None


# --- the envelope ----------------------------------------------------------------------------------


class UnsupportedMediaType(InvalidInput):
    status = 415
    code = "unsupported_media_type"
    default_message = _("The event is not in a form this endpoint takes. Nothing was saved.")


def parse_body(body: bytes, content_type: str) -> dict:
    """The event of a structured-mode request body; 415 for another form, 400 for a body that is
    not one JSON object."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media == "application/cloudevents-batch+json":
        raise UnsupportedMediaType.single(
            "content_type", "batch", _("Post one event per request (batch mode is not accepted).")
        )
    if media not in MEDIA_TYPES:
        raise UnsupportedMediaType.single(
            "content_type",
            "unsupported",
            _("Send the event in structured mode: Content-Type application/cloudevents+json."),
        )
    try:
        envelope = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest.single("__all__", "json_invalid", _("The request body is not valid JSON.")) from None
    if not isinstance(envelope, dict):
        raise BadRequest.single("__all__", "not_object", _("The request body must be a JSON object."))
    return envelope


def _text_attribute(errors: FieldErrors, envelope: dict, name: str, *, required: bool, limit: int) -> str:
    value = envelope.get(name)
    if value is None:
        if required:
            errors.add(name, "required", _("This field is required."))
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        errors.add(name, "invalid", _("A non-empty string is required."))
        return ""
    if len(value) > limit:
        errors.add(name, "max_length", Formatted(_("At most %(n)d characters."), {"n": limit}))
        return ""
    return value


@dataclass
class Checked:
    """An envelope that passed the specification's checks, with its place."""

    envelope: dict
    occurred_at: dt.datetime | None
    latitude: Decimal | None
    longitude: Decimal | None
    address: str
    region_code: str
    extensions: dict


def check_envelope(system: EventSystem, envelope: dict) -> Checked:
    errors = FieldErrors()
    version = envelope.get("specversion")
    if version is None:
        errors.add("specversion", "required", _("This field is required."))
    elif version != SPECVERSION:
        errors.add("specversion", "unsupported", _("Only CloudEvents specversion 1.0 is accepted."))
    _text_attribute(errors, envelope, "id", required=True, limit=200)
    source = _text_attribute(errors, envelope, "source", required=True, limit=500)
    _text_attribute(errors, envelope, "type", required=True, limit=200)
    _text_attribute(errors, envelope, "subject", required=False, limit=200)
    _text_attribute(errors, envelope, "dataschema", required=False, limit=500)
    media = _text_attribute(errors, envelope, "datacontenttype", required=False, limit=100)
    if media and media.split(";")[0].strip().lower() not in ("application/json", "text/json"):
        errors.add("datacontenttype", "unsupported", _("Only JSON data is accepted."))
    if "data_base64" in envelope:
        errors.add("data_base64", "unsupported", _("Only JSON data is accepted."))
    if source and not source.startswith(system.source_prefix):
        # another system's source: refused before anything is looked up, so nothing leaks
        raise NotPermitted(_("This system may not post events of this source."))
    occurred_at = None
    raw_time = envelope.get("time")
    if raw_time is not None:
        parsed = parse_datetime(raw_time) if isinstance(raw_time, str) and _RFC3339.match(raw_time) else None
        if parsed is None:
            errors.add(
                "time", "invalid", _("Give the time in RFC 3339 form, e.g. 2026-12-07T09:00:00+08:00.")
            )
        else:
            occurred_at = parsed
    extensions = {}
    for name, value in envelope.items():
        if name in CONTEXT_ATTRIBUTES or name in ("data", "data_base64"):
            continue
        if not _EXTENSION_NAME.match(name):
            errors.add(name, "name", _("Extension attribute names are 1 to 20 lower-case letters or digits."))
        elif not isinstance(value, str | int | float | bool) or (isinstance(value, str) and len(value) > 500):
            errors.add(name, "invalid", _("An extension attribute is a short string, a number or a boolean."))
        else:
            extensions[name] = value
    data = envelope.get("data")
    location = (
        data.get("location") if isinstance(data, dict) and isinstance(data.get("location"), dict) else {}
    )

    def place(key, *alternatives):
        for source_map in (extensions, location):
            for k in (key, *alternatives):
                if source_map.get(k) not in (None, ""):
                    return source_map[k]
        return None

    lat = _coordinate(errors, "lat", _scalar(place("lat", "latitude")), 90)
    lon = _coordinate(errors, "lon", _scalar(place("lon", "lng", "longitude")), 180)
    if (lat is None) != (lon is None):
        errors.add("lat" if lat is None else "lon", "required", _("Give both latitude and longitude."))
    address = str(place("address") or "").strip()
    if len(address) > 200:
        errors.add("address", "max_length", Formatted(_("At most %(n)d characters."), {"n": 200}))
    region = str(place("region", "region_code") or "").strip()[:20]
    if lat is None and not address and not region and not errors.fields:
        errors.add("lat", "required", _("Say where the event happened: lat and lon, an address or a region."))
    callback = extensions.get(CALLBACK_ATTRIBUTE)
    if callback is not None and not (isinstance(callback, str) and allowed_callback(callback)):
        errors.add(
            CALLBACK_ATTRIBUTE,
            "not_allowed",
            _("The callback URL must be http(s), without credentials, to a host on the centre's allow-list."),
        )
    errors.raise_if_any()
    return Checked(envelope, occurred_at, lat, lon, address, region, extensions)


def _scalar(value):
    """A coordinate as given (number or numeric text); anything else reads as not a number."""
    if value is None or (isinstance(value, int | float | str) and not isinstance(value, bool)):
        return value
    return "not a number"


# --- intake ----------------------------------------------------------------------------------------


def _order_text(rule: EventRule, checked: Checked) -> str:
    """The order's text, in the centre's language: what happened, where, and the reading."""
    envelope = checked.envelope
    lines = [f"【城市事件】{rule.name}（{envelope['type']}）"]
    if envelope.get("subject"):
        lines.append(f"对象：{envelope['subject']}")
    if checked.address:
        lines.append(f"地点：{checked.address}")
    if envelope.get("data") is not None:
        data = json.dumps(envelope["data"], ensure_ascii=False, sort_keys=True)
        lines.append(f"数据：{data[:DATA_TEXT_MAX]}")
    return "\n".join(lines)


def _repeat_of(rule: EventRule, checked: Checked, at: dt.datetime) -> WorkOrder | None:
    """The open order an earlier event of this rule opened at the same place within the window."""
    subject = checked.envelope.get("subject") or ""
    earlier = (
        CityEvent.objects.filter(
            rule=rule,
            outcome__in=[EventOutcome.CREATED, EventOutcome.MERGED],
            received_at__gte=at - dt.timedelta(hours=rule.merge_hours),
            order__status__in=OPEN_STATUSES,
        )
        .select_related("order")
        .order_by("-received_at", "-pk")[:200]
    )
    for event in earlier:
        if subject and event.subject:
            if event.subject == subject:
                return event.order
            continue
        if checked.latitude is not None and event.latitude is not None:
            if similar.distance_m(checked.latitude, checked.longitude, event.latitude, event.longitude) <= (
                rule.merge_metres
            ):
                return event.order
            continue
        if checked.address and checked.address == event.address:
            return event.order
    return None


@use_case("hotline.city_event", object_type="city_event")
def ingest(actor, *, system: EventSystem, envelope: dict) -> tuple[CityEvent, bool]:
    """Take one event (`actor` is `system_actor(system)`): (the stored event, whether this delivery
    was new). A replay of an event already taken returns the first delivery's record and changes
    nothing."""
    checked = check_envelope(system, envelope)
    uow = current()
    uow.audit.object_ref = f"{envelope['source']} {envelope['id']}"[:200]
    uow.audit.detail = {"system": system.name, "type": envelope["type"]}
    existing = CityEvent.objects.filter(source=envelope["source"], event_id=envelope["id"]).first()
    if existing is not None:
        return existing, False
    at = now()
    event = CityEvent(
        system=system,
        source=envelope["source"],
        event_id=envelope["id"],
        event_type=envelope["type"],
        subject=envelope.get("subject") or "",
        occurred_at=checked.occurred_at,
        received_at=at,
        data=envelope.get("data"),
        extensions=checked.extensions,
        latitude=checked.latitude,
        longitude=checked.longitude,
        address=checked.address,
        outcome=EventOutcome.IGNORED,
    )
    rule = choose_rule(envelope)
    if rule is not None:
        event.rule, event.rule_name = rule, rule.name
        order = _repeat_of(rule, checked, at)
        if order is not None:
            event.outcome, event.order = EventOutcome.MERGED, order
        else:
            department = rule.department or department_for(rule.category)
            order = create_order.__wrapped__(
                actor,
                channel=Channel.CITY_EVENT,
                text=_order_text(rule, checked),
                order_type=rule.order_type,
                urgency=rule.urgency,
                requester_name=system.name,
                address=checked.address,
                latitude=checked.latitude,
                longitude=checked.longitude,
                region_code=checked.region_code,
                category=rule.category.path,
                department_code=department.code if department else "",
                dispatch=True,
                dispatch_rule=f"event_rule:{rule.name}",
            )
            event.outcome, event.order = EventOutcome.CREATED, order
        _event(
            order,
            act.CITY_EVENT,
            actor,
            at=at,
            source=event.source,
            event_id=event.event_id,
            event_type=event.event_type,
            rule=rule.name,
            repeat=event.outcome == EventOutcome.MERGED,
        )
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        # a concurrent delivery of the same event won the race: this one changes nothing
        raise Conflict(_("The same event is being taken right now; ask again for its status.")) from None
    uow.audit.detail["outcome"] = event.outcome
    return event, True


# --- what the posting system reads back -----------------------------------------------------------


def final_order(order: WorkOrder | None) -> WorkOrder | None:
    """The order that carries the event now: a merge by the centre moves it to another order."""
    hops = 0
    while order is not None and order.merged_into_id and hops < 10:
        order = WorkOrder.objects.select_related("category", "department").get(pk=order.merged_into_id)
        hops += 1
    return order


def event_status(system: EventSystem, event_id: str, *, source: str = "") -> CityEvent:
    """The system's own event by its id (and source, when the id is used by several of its sources)."""
    qs = CityEvent.objects.filter(system=system, event_id=str(event_id or "")[:200]).select_related(
        "order__category", "order__department"
    )
    if source:
        qs = qs.filter(source=source[:500])
    found = list(qs[:2])
    if not found:
        raise NotFound()
    if len(found) > 1:
        raise InvalidInput.single(
            "source", "ambiguous", _("Several of your sources used this id: give the source.")
        )
    audit.record(
        "hotline.city_event_read",
        actor=system_actor(system),
        object_type="city_event",
        object_ref=f"{found[0].source} {found[0].event_id}"[:200],
    )
    return found[0]


def order_status(system: EventSystem, number: str) -> tuple[WorkOrder, int]:
    """An order the system's events opened or joined: (the order, how many of its events it holds)."""
    order = (
        WorkOrder.objects.select_related("category", "department")
        .filter(number=str(number or "")[:24])
        .first()
    )
    if order is None:
        raise NotFound()
    mine = CityEvent.objects.filter(system=system, order=order).count()
    if not mine:
        raise NotFound()
    audit.record(
        "hotline.city_event_read",
        actor=system_actor(system),
        object_type="work_order",
        object_ref=order.number,
    )
    return order, mine


# --- 智能发现率 --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MachineFound:
    """智能发现率 (DOMAIN.md): orders from city events / orders of the categories sensors cover
    (the categories of the active event rules and below them), received in the period."""

    from_events: int
    covered: int
    categories: tuple[str, ...]

    @property
    def rate(self) -> float | None:
        return round(self.from_events / self.covered, 4) if self.covered else None


def machine_found(actor, *, start: dt.datetime, end: dt.datetime) -> MachineFound:
    if not may_read_all(actor):
        raise NotPermitted()
    paths = sorted(set(EventRule.objects.filter(active=True).values_list("category__path", flat=True)))
    if not paths:
        return MachineFound(0, 0, ())
    under = Q()
    for path in paths:
        under |= Q(category__path=path) | Q(category__path__startswith=path + "/")
    counts = (
        WorkOrder.objects.filter(under, received_at__gte=start, received_at__lt=end)
        .exclude(status=OrderStatus.MERGED)
        .aggregate(covered=Count("pk"), from_events=Count("pk", filter=Q(channel=Channel.CITY_EVENT)))
    )
    return MachineFound(counts["from_events"], counts["covered"], tuple(paths))


def recent_events(actor, *, limit: int = 50) -> list[CityEvent]:
    require(actor, perms.HOTLINE_CENTRE)
    return list(CityEvent.objects.select_related("system", "order")[:limit])


def localtime(value):
    return timezone.localtime(value) if value else None


# --- closing the loop: the closing status POSTed to the system's callback URL ----------------------

CALLBACK_ATTRIBUTE = "callbackurl"
CALLBACK_TIMEOUT = 5.0


def allowed_callback(url: str) -> bool:
    """An http(s) URL without credentials to a host on the centre's allow-list
    (TONGBAN_HOTLINE_CALLBACK_HOSTS). Checked when the event is posted and again before each
    delivery, so a host taken off the list gets nothing more: the centre's network never calls an
    address a posting system chose (SSRF)."""
    try:
        parts = urllib.parse.urlsplit(str(url))
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    hosts = set(getattr(settings, "TONGBAN_HOTLINE_CALLBACK_HOSTS", []) or [])
    return parts.scheme in ("https", "http") and not parts.username and not parts.password and host in hosts


def after_closing(order: WorkOrder) -> None:
    """Inside the use case that closes an order: once it commits, queue a callback for every event
    with a callback URL that opened or joined the order (or an order merged into it)."""
    events = CityEvent.objects.filter(Q(order=order) | Q(order__merged_into=order)).values_list(
        "pk", "extensions"
    )
    for pk, extensions in events:
        if (extensions or {}).get(CALLBACK_ATTRIBUTE):
            from .tasks import post_event_callback

            current().after_commit(post_event_callback, pk)


def callback_body(event: CityEvent, order: WorkOrder) -> dict:
    """What the system hears when its event's order closes (the fields it could poll for)."""
    return {
        "id": event.event_id,
        "source": event.source,
        "order": order.number,
        "status": order.status,
        "outcome": order.outcome,
        "reply_text": order.reply_text,
        "closed_at": order.closed_at.isoformat() if order.closed_at else None,
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed (it could point anywhere): it counts as a failed delivery."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _send(url: str, body: bytes) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())
    request = urllib.request.Request(  # noqa: S310 (http(s) to an allow-listed host only)
        url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    with opener.open(request, timeout=CALLBACK_TIMEOUT) as response:
        return response.status


class CallbackFailed(RuntimeError):
    """The system's endpoint did not take the callback; the job queue tries again later."""


def deliver_callback(event_pk: int) -> str:
    """POST the closing status of an event's order to its callback URL (run by the job queue, which
    retries when this raises). Each delivery is journalled, sent or refused."""
    event = CityEvent.objects.select_related("order", "system").filter(pk=event_pk).first()
    url = str(((event.extensions or {}).get(CALLBACK_ATTRIBUTE) or "") if event else "")
    order = final_order(event.order) if event is not None else None
    if event is None or order is None or not url:
        return "nothing"
    ref = f"{event.source} {event.event_id}"[:200]
    if not allowed_callback(url):
        audit.record(
            "hotline.city_event_callback",
            outcome="denied",
            object_type="city_event",
            object_ref=ref,
            detail={"order": order.number, "error": "host_not_allowed"},
        )
        return "refused"
    body = json.dumps(callback_body(event, order), ensure_ascii=False).encode()
    try:
        status = _send(url, body)
    except (OSError, ValueError) as exc:  # URLError and HTTPError are OSErrors
        audit.record(
            "hotline.city_event_callback",
            outcome="failed",
            object_type="city_event",
            object_ref=ref,
            detail={"order": order.number, "error": type(exc).__name__, "status": getattr(exc, "code", None)},
        )
        raise CallbackFailed(f"callback for {ref} failed: {type(exc).__name__}") from None
    audit.record(
        "hotline.city_event_callback",
        object_type="city_event",
        object_ref=ref,
        detail={"order": order.number, "status": status, "order_status": order.status},
    )
    return "sent"
