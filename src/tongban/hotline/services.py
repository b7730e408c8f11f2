"""The use cases of the 12345 hotline: intake, dispatch, department handling, review, callback.

Who may do what:
- the centre (hotline.centre: operators, 坐席) records calls, dispatches, arbitrates returns,
  reviews replies, calls back and reopens; it sees every order and the requester's name even when
  withheld from the department (首接负责制: it owns the order until a department accepts it);
- a department (hotline.handle, scoped) sees and handles the orders dispatched to it: accept,
  first contact, return (退单), reply;
- hotline.view (supervisors) reads every order and the rates;
- a citizen files on the portal and sees their own orders.
An order the caller may not see is NotFound, so its existence does not leak.

Every step is one use case: its audit entry, its event on the core log (subject kind
work_order), one transaction.
"""

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts import roles as perms
from tongban.accounts.models import Department, Region, UserKind
from tongban.core import audit, crypto, sql
from tongban.core.authz import require
from tongban.core.calendar import get_calendar
from tongban.core.errors import (
    Conflict,
    FieldErrors,
    Formatted,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    NotPermitted,
)
from tongban.core.identifiers import normalize_region_code
from tongban.core.uow import current, use_case

from . import activities as act
from .models import (
    OPEN_STATUSES,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Callback,
    CallbackSolved,
    Category,
    Channel,
    OrderStatus,
    OrderType,
    Outcome,
    Satisfaction,
    TrainingExample,
    Urgency,
    WorkOrder,
)

KIND = act.KIND
TEXT_MAX = 5000
REASON_MAX = 1000

# DOMAIN.md defaults: (first contact hours, resolution working days); 15 after an extension.
DEFAULT_LIMITS = {Urgency.CRITICAL: (2, 1), Urgency.URGENT: (24, 3), Urgency.NORMAL: (24, 7)}
DEFAULT_EXTENDED_DAYS = 15

CENTRE_CHANNELS = {Channel.PHONE, Channel.API, Channel.APP, Channel.OPEN311, Channel.CITY_EVENT}
CITIZEN_CHANNELS = {Channel.PORTAL, Channel.APP}


def now() -> dt.datetime:
    return timezone.now()


# --- access ------------------------------------------------------------------------------------


def _authenticated(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotAuthenticated()


def is_centre(actor) -> bool:
    return bool(actor.can(perms.HOTLINE_CENTRE))


def may_read_all(actor) -> bool:
    return is_centre(actor) or bool(actor.can(perms.HOTLINE_VIEW))


def _is_requester(actor, order: WorkOrder) -> bool:
    user = getattr(actor, "user", None)
    return user is not None and order.requester_user_id is not None and order.requester_user_id == user.pk


def _handling_assignments(actor, order: WorkOrder, *, active_only: bool = False) -> list[Assignment]:
    out = []
    for a in order.assignments.select_related("department").all():
        if active_only and not a.is_active:
            continue
        if actor.can(perms.HOTLINE_HANDLE, a.department):
            out.append(a)
    return out


def _is_further_requester(actor, order: WorkOrder) -> bool:
    """A citizen who follows the order, or whose own order was merged into it."""
    user = getattr(actor, "user", None)
    return user is not None and order.requesters.filter(user=user).exists()


def may_see(actor, order: WorkOrder) -> bool:
    if may_read_all(actor) or _is_requester(actor, order):
        return True
    if getattr(actor, "is_citizen", False):
        return _is_further_requester(actor, order)
    return bool(_handling_assignments(actor, order))


def orders(actor) -> QuerySet:
    """The orders the caller may see."""
    _authenticated(actor)
    base = WorkOrder.objects.select_related("category", "department", "region")
    if may_read_all(actor) or getattr(actor, "is_system", False):
        return base
    if getattr(actor, "is_citizen", False):
        return base.filter(Q(requester_user=actor.user) | Q(requesters__user=actor.user)).distinct()
    if actor.can(perms.HOTLINE_HANDLE):
        visible = Assignment.objects.filter(actor.scope_q(perms.HOTLINE_HANDLE)).values("order_id")
        return base.filter(pk__in=visible)
    raise NotPermitted()


def access_order(actor, number: str, *, lock: bool = False) -> WorkOrder:
    """The order, if the caller may see it (row-locked when asked); NotFound otherwise."""
    _authenticated(actor)
    qs = WorkOrder.objects.select_related("category", "department", "region", "requester_user")
    if lock:
        qs = qs.select_for_update(of=("self",))
    order = qs.filter(number=str(number or "")).first()
    if order is None or not may_see(actor, order):
        raise NotFound()
    return order


def _centre_order(actor, number: str) -> WorkOrder:
    order = access_order(actor, number, lock=True)
    if not is_centre(actor):
        raise NotPermitted()
    return order


def _handler_assignment(actor, order: WorkOrder, *, statuses=None) -> Assignment:
    """The caller's department's active assignment on the order (the lead's first)."""
    mine = _handling_assignments(actor, order, active_only=True)
    if statuses is not None:
        mine = [a for a in mine if a.status in statuses]
    if not mine:
        raise NotPermitted(_("Your department holds no open assignment on this work order."))
    mine.sort(key=lambda a: a.role != AssignmentRole.LEAD)
    return mine[0]


def _require_status(order: WorkOrder, *allowed) -> None:
    if order.status not in allowed:
        raise Conflict(
            Formatted(
                _("The work order is %(status)s; this step is not possible now."),
                {"status": order.get_status_display()},
            )
        )


# --- reading: what a viewer may see of the requester -------------------------------------------


WITHHELD = _("name withheld (匿名)")


def requester_label(actor, order: WorkOrder) -> str:
    """The requester as this viewer may see them: the centre sees a withheld name, others do not."""
    if order.anonymous and not is_centre(actor) and not _is_requester(actor, order):
        return str(WITHHELD)
    if is_centre(actor) or _is_requester(actor, order):
        return order.requester_name
    return order.name_masked


def reveal_contact(actor, number: str) -> str:
    """The full contact number, for the centre or a department holding the order; journalled."""
    order = access_order(actor, number)
    if not (is_centre(actor) or _handling_assignments(actor, order, active_only=True)):
        raise NotPermitted()
    if order.anonymous and not is_centre(actor):
        raise NotPermitted(_("The requester withheld their identity; only the centre may call them."))
    audit.record("hotline.reveal_contact", actor=actor, object_type="work_order", object_ref=order.number)
    return order.contact_phone


def earlier_orders(actor, phone: str, *, limit: int = 20) -> list[WorkOrder]:
    """The caller's earlier orders, found by the blind index of their number (the operator console)."""
    require(actor, perms.HOTLINE_CENTRE)
    try:
        normalised = normalize_phone(phone)
    except InvalidInput:
        return []
    return list(
        WorkOrder.objects.filter(phone_index=WorkOrder.index_phone(normalised))
        .select_related("category", "department")
        .order_by("-received_at")[:limit]
    )


# --- time limits -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    first_contact_hours: int
    resolution_working_days: int
    extended_working_days: int


def limits_for(urgency: str, order_type: str) -> Limits:
    """The centre's limits for this urgency and type (a type-specific row wins), else the defaults."""
    from django.db import connection

    with connection.cursor() as cursor:  # read for every order: plain SQL, no model instances
        cursor.execute(
            "SELECT order_type, first_contact_hours, resolution_working_days, extended_working_days "
            "FROM hotline_timelimit WHERE urgency = %s AND order_type IN (%s, '')",
            [str(urgency), str(order_type)],
        )
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    row = rows.get(order_type) or rows.get("")
    if row is not None:
        return Limits(*row)
    hours, days = DEFAULT_LIMITS[Urgency(urgency)]
    return Limits(hours, days, DEFAULT_EXTENDED_DAYS)


def _set_clock(order: WorkOrder, start: dt.datetime, known: dict | None = None) -> None:
    if known is None:
        limits = limits_for(order.urgency, order.order_type)
    else:
        key = ("limits", order.urgency, order.order_type)
        limits = known.get(key) or known.setdefault(key, limits_for(order.urgency, order.order_type))
    order.first_contact_due = start + dt.timedelta(hours=limits.first_contact_hours)
    days = limits.extended_working_days if order.extended else limits.resolution_working_days
    order.resolution_due = get_calendar().deadline(start, days)


def clock_status(order: WorkOrder, at: dt.datetime | None = None) -> str:
    """green / yellow / red of an open order against its resolution limit (DOMAIN.md thresholds)."""
    at = at or now()
    if not order.is_open:
        return ""
    if at > order.resolution_due:
        return "red"
    total = (order.resolution_due - order.received_at).total_seconds() or 1
    used = (at - order.received_at).total_seconds() / total
    return "yellow" if used >= 0.8 else "green"


# --- input checks ------------------------------------------------------------------------------

_LANDLINE = re.compile(r"^0\d{9,11}$|^\d{7,8}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalize_phone(value) -> str:
    """A mainland mobile (11 digits) or a landline with or without area code; separators dropped."""
    raw = re.sub(r"[\s\-()（）]", "", str(value or ""))
    raw = re.sub(r"^(\+86|0086)", "", raw)
    if _MOBILE.match(raw) or _LANDLINE.match(raw):
        return raw
    raise InvalidInput.single(
        "phone", "format", _("Enter a mobile number (11 digits) or a landline with its area code.")
    )


def _choice(errors: FieldErrors, name: str, value, choices) -> str:
    value = str(value or "")
    if value not in choices.values:
        errors.add(name, "choice", _("Choose one of the allowed values."))
    return value


def _coordinate(errors: FieldErrors, name: str, value, bound: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        errors.add(name, "invalid", _("Enter a number in decimal degrees."))
        return None
    if not -bound <= number <= bound:
        errors.add(name, "range", Formatted(_("Between -%(b)d and %(b)d degrees."), {"b": bound}))
        return None
    return number


_TAXONOMY_STAMP = (
    "SELECT COUNT(*), COALESCE(MAX(id), 0), "
    "COALESCE(SUM((COALESCE(department_id, 0) * 2654435761 + id * 40503) % 1000000007), 0) "
    "FROM hotline_category"
)
_taxonomy: dict = {"stamp": None, "by_path": {}}


def _categories_by_path() -> dict[str, Category]:
    """Every taxonomy node by path, with its ancestors and their departments, kept per process and
    read again when the table changes (a node added, or the department map edited anywhere: one
    small aggregate query tells). Intake looks a category up for every order; the joined query it
    replaces cost more than the rest of the order's validation."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(_TAXONOMY_STAMP)
        stamp = tuple(cursor.fetchone())
    cache = _taxonomy
    if cache["stamp"] != stamp:
        nodes = Category.objects.select_related(
            "department", "parent__department", "parent__parent__department"
        )
        cache = {"stamp": stamp, "by_path": {c.path: c for c in nodes}}
        _taxonomy.update(cache)
    return cache["by_path"]


def category_by_path(path: str) -> Category | None:
    return _categories_by_path().get(str(path or "").strip())


def department_for(category: Category | None) -> Department | None:
    """The centre's map: the category's own department, else its nearest ancestor's."""
    node = category
    while node is not None:
        if node.department_id:
            return node.department
        node = node.parent
    return None


_regions: dict[str, Region] = {}


def _region(code: str) -> Region | None:
    """A region by its code (GB/T 2260 codes do not change meaning; found ones are kept per process)."""
    region = _regions.get(code)
    if region is None:
        region = Region.objects.filter(code=code).first()
        if region is not None:
            _regions[code] = region
    return region


def clear_caches() -> None:
    """Forget the per-process copies (tests roll rows back and ids come round again)."""
    from . import band_index

    _taxonomy.update({"stamp": None, "by_path": {}})
    _regions.clear()
    band_index.clear()


# --- intake ------------------------------------------------------------------------------------


def _take_serials(day: dt.date, count: int = 1) -> tuple[int, bytes]:
    """Reserve `count` consecutive serials of the day in one statement; returns the last and the
    day's key."""
    rows = sql.all_rows(
        "UPDATE hotline_ordernumberday SET last_serial = last_serial + %s WHERE day = %s "
        "RETURNING last_serial, key",
        [count, day],
    )
    if not rows:
        rows = sql.all_rows(
            "INSERT INTO hotline_ordernumberday (day, last_serial, key) VALUES (%s, %s, %s) "
            "ON CONFLICT (day) DO UPDATE SET last_serial = hotline_ordernumberday.last_serial + %s "
            "RETURNING last_serial, key",
            [day, count, secrets.token_hex(16), count],
        )
    serial, key = rows[0]
    return serial, bytes.fromhex(key)


def _new_numbers(at: dt.datetime, count: int = 1) -> list[str]:
    """工单编号: "H" + local date + six digits, unique per day and telling nothing of the day's volume."""
    day = timezone.localtime(at).date()
    last, key = _take_serials(day, count)
    if last > 10**6:
        raise Conflict(_("The centre has numbered a million orders today; try again tomorrow."))
    return [
        f"H{day:%Y%m%d}{crypto.permute_digits(serial - 1, 6, key):06d}"
        for serial in range(last - count + 1, last + 1)
    ]


def _new_number(at: dt.datetime) -> str:
    return _new_numbers(at)[0]


def _event(
    order: WorkOrder, activity: str, actor, *, at=None, department: Department | None = None, **detail
):
    current().event(
        KIND,
        order.number,
        activity,
        at=at or now(),
        actor=actor,
        department_code=(department or order.department).code if (department or order.department) else "",
        channel=order.channel,
        detail=detail,
    )


def _intake_by(actor, channel: str) -> bool:
    """May the actor record an order on this channel? Returns whether they file as a citizen."""
    _authenticated(actor)
    citizen = getattr(actor, "is_citizen", False)
    if citizen:
        if channel not in CITIZEN_CHANNELS:
            raise NotPermitted()
    elif not is_centre(actor):
        raise NotPermitted()
    elif channel not in CENTRE_CHANNELS:
        raise InvalidInput.single("channel", "choice", _("Choose one of the allowed values."))
    return citizen


def _active_department(code: str, known: dict | None = None) -> Department | None:
    if known is not None and code in known:
        return known[code]
    department = Department.objects.filter(code=code, is_active=True).first()
    if known is not None:
        known[code] = department
    return department


def _new_order(
    actor,
    errors: FieldErrors,
    *,
    citizen: bool,
    at: dt.datetime,
    channel: str,
    text: str,
    order_type: str,
    urgency: str = Urgency.NORMAL,
    requester_name: str = "",
    anonymous: bool = False,
    phone: str = "",
    address: str = "",
    latitude=None,
    longitude=None,
    region_code: str = "",
    category: str = "",
    department_code: str = "",
    suggested_category: str = "",
    suggestion_confidence: float | None = None,
    dispatch: bool = False,
    known: dict | None = None,
) -> WorkOrder | None:
    """The order a request describes, checked, with its clock set but no number and not saved; None
    after recording its problems in `errors`. `known` keeps lookups (departments, time limits)
    across the orders of one batch."""
    text = errors.require_text("text", text, max_length=TEXT_MAX)
    order_type = _choice(errors, "order_type", order_type, OrderType)
    urgency = _choice(errors, "urgency", urgency or Urgency.NORMAL, Urgency)
    requester_name = (requester_name or "").strip()
    if citizen and not requester_name and actor.person is not None:
        requester_name = actor.person.name
    if len(requester_name) > 60:
        errors.add("requester_name", "max_length", Formatted(_("At most %(n)d characters."), {"n": 60}))
    if not requester_name and not anonymous:
        errors.add("requester_name", "required", _("Give the requester's name, or mark the order anonymous."))
    if citizen and not phone and actor.person is not None:
        phone = actor.person.phone or ""
    normalised_phone = ""
    if phone:
        normalised_phone = errors.collect(lambda: normalize_phone(phone)) or ""
    address = (address or "").strip()
    if len(address) > 200:
        errors.add("address", "max_length", Formatted(_("At most %(n)d characters."), {"n": 200}))
    lat = _coordinate(errors, "latitude", latitude, 90)
    lon = _coordinate(errors, "longitude", longitude, 180)
    if (
        (lat is None) != (lon is None)
        and not errors.fields.get("latitude")
        and not errors.fields.get("longitude")
    ):
        errors.add(
            "longitude" if lon is None else "latitude", "required", _("Give both latitude and longitude.")
        )
    region = None
    if region_code:
        code = errors.check("region_code", normalize_region_code, region_code)
        if code:
            region = _region(code)
            if region is None:
                errors.add("region_code", "unknown", _("No region has this code."))
    if not address and lat is None and region is None and channel != Channel.PHONE:
        errors.add("address", "required", _("Give an address, a map point or a region."))
    category_obj = None
    if category:
        by_path = known.get("categories") if known is not None else None  # a batch reads them once
        category_obj = (
            by_path.get(str(category).strip()) if by_path is not None else category_by_path(category)
        )
        if category_obj is None:
            errors.add("category", "unknown", _("No category has this name."))
    department = None
    if department_code:
        department = _active_department(department_code, known)
        if department is None:
            errors.add("department_code", "unknown", _("No department has this code."))
    if errors:
        return None
    if department is None:
        department = department_for(category_obj)
    if dispatch and (citizen or department is None):
        errors.add("department_code", "required", _("Choose the department to dispatch to."))
        return None
    user = getattr(actor, "user", None)
    order = WorkOrder(
        channel=channel,
        order_type=order_type,
        urgency=urgency,
        requester_user=user if citizen else None,
        requester_name=requester_name,
        anonymous=bool(anonymous),
        contact_phone=normalised_phone,
        text=text,
        address=address,
        latitude=lat,
        longitude=lon,
        region=region,
        category=category_obj,
        department=department,
        received_at=at,
        created_by=user if user is not None and user.kind != UserKind.CITIZEN else None,
    )
    _set_clock(order, at, known)
    suggested = (suggested_category or "").strip()[:60]
    if suggested:
        order.suggested_category = suggested
        order.suggestion_confidence = suggestion_confidence
        order.suggestion_accepted = category_obj is not None and category_obj.top == suggested
    return order


def _received(order: WorkOrder, actor, *, citizen: bool, at, examples: list | None = None) -> None:
    """The events of a new order (and its routing, kept as training data)."""
    category = order.category
    _event(
        order,
        act.RECEIVED,
        actor,
        at=at,
        order_type=order.order_type,
        urgency=order.urgency,
        category=category.path if category else "",
        region=order.region.code if order.region_id else "",
        anonymous=order.anonymous,
    )
    if category is not None and not citizen:
        _record_routing(order, actor, chosen=category.top, at=at, examples=examples)


@use_case("hotline.create_order", object_type="work_order")
def create_order(
    actor,
    *,
    channel: str,
    dispatch: bool = False,
    dispatch_rule: str = "",
    **fields,
) -> WorkOrder:
    """Record a work order from any channel. The centre records calls and system submissions; a
    citizen files on the portal as the requester. With `dispatch`, the centre sends it at once to
    the department given (or the category's), in the same transaction. The fields are those of
    `_new_order`."""
    citizen = _intake_by(actor, channel)
    errors = FieldErrors()
    at = now()
    order = _new_order(actor, errors, citizen=citizen, at=at, channel=channel, dispatch=dispatch, **fields)
    errors.raise_if_any()
    order.number = _new_number(at)
    from .duplicates import index_order, plan

    found = plan(order, at)  # the duplicate check: cluster and signature go into the first write
    order.save()
    uow = current()
    uow.audit.object_ref = order.number
    uow.audit.department_code = order.department.code if order.department_id else ""
    _received(order, actor, citizen=citizen, at=at)
    index_order(order, actor, at, found)
    if dispatch:
        _dispatch(actor, order, order.department, [], at=at, rule=dispatch_rule)
    return order


BATCH_MAX = 500
# What one order of a batch may say (the keywords of `_new_order` a caller gives).
BATCH_FIELDS = frozenset(
    {
        "text",
        "order_type",
        "urgency",
        "requester_name",
        "anonymous",
        "phone",
        "address",
        "latitude",
        "longitude",
        "region_code",
        "category",
        "department_code",
        "suggested_category",
        "suggestion_confidence",
        "dispatch",
    }
)


@use_case("hotline.receive_many", object_type="work_order")
def receive_many(
    actor, requests, *, channel: str = Channel.API, accept_suggestions: bool = False
) -> list[WorkOrder]:
    """Record a batch of work orders a system submits at once (the API's bulk intake). Each order is
    checked, routed and checked for duplicates — against the indexed orders and the batch's earlier
    ones — as `create_order` would do it one by one, and keeps the same records: its own
    hotline.create_order journal entry, its events, its routing example, its band keys, duplicate
    proposals and hotspot warnings. What costs per statement is done once for the batch: the
    numbers in one update, the rows in bulk inserts, one transaction (all or nothing: a bad order
    refuses the batch, its problems named `orders.<i>.<field>`).

    The router suggests a category for every order that does not carry a suggestion; with
    `accept_suggestions` its confident suggestion becomes the category of an order that names none."""
    if _intake_by(actor, channel):
        raise NotPermitted()  # a citizen files one order at a time, on the portal
    requests = list(requests or [])
    if not requests:
        raise InvalidInput.single("orders", "required", _("Send at least one work order."))
    if len(requests) > BATCH_MAX:
        raise InvalidInput.single(
            "orders", "max_length", Formatted(_("At most %(n)d work orders at once."), {"n": BATCH_MAX})
        )
    from . import router
    from .duplicates import index_many, plan_many

    model = router.load()
    at = now()
    known: dict = {"categories": _categories_by_path()}
    errors = FieldErrors()
    orders, dispatched = [], []
    for i, request in enumerate(requests):
        if not isinstance(request, Mapping):
            errors.add(f"orders.{i}", "invalid", _("Each work order is an object of fields."))
            continue
        fields = dict(request)
        item = FieldErrors()
        for name in sorted(set(fields) - BATCH_FIELDS):
            item.add(name, "unknown", _("This field is not part of a work order."))
            del fields[name]
        text = str(fields.get("text") or "")
        if model is not None and text.strip() and not fields.get("suggested_category"):
            suggestion = model.suggest(text)
            if suggestion.label:
                fields["suggested_category"] = suggestion.label
                fields["suggestion_confidence"] = round(suggestion.confidence, 4)
                if accept_suggestions and not fields.get("category"):
                    fields["category"] = suggestion.label
        order = _new_order(actor, item, citizen=False, at=at, channel=channel, known=known, **fields)
        for name, problems in item.fields.items():
            errors.fields[f"orders.{i}.{name}"] = problems
        if order is not None:
            orders.append(order)
            dispatched.append(bool(fields.get("dispatch")))
    errors.raise_if_any()
    for order, number in zip(orders, _new_numbers(at, len(orders)), strict=True):
        order.number = number
        order.phone_index = WorkOrder.index_phone(order.contact_phone or "")  # as WorkOrder.save does
    plans = plan_many(orders, at)  # the duplicate check: cluster and signature go into the first write
    WorkOrder.objects.bulk_create(orders)
    examples: list[TrainingExample] = []
    for order in orders:
        audit.record(
            "hotline.create_order",
            actor=actor,
            object_type="work_order",
            object_ref=order.number,
            department_code=order.department.code if order.department_id else "",
        )
        _received(order, actor, citizen=False, at=at, examples=examples)
    TrainingExample.objects.bulk_create(examples)
    index_many(orders, actor, at, plans)
    for order, dispatch in zip(orders, dispatched, strict=True):
        if dispatch:
            _dispatch(actor, order, order.department, [], at=at)
    current().audit.detail = {"orders": len(orders), "channel": channel}
    return orders


def _record_routing(order: WorkOrder, actor, *, chosen: str, at, examples: list | None = None) -> None:
    """The operator's confirmation or override of the router's suggestion, kept as training data
    (added to `examples` for a batch to write at once)."""
    overridden = bool(order.suggested_category) and order.suggested_category != chosen
    example = TrainingExample(
        text=order.text, label=chosen, suggested=order.suggested_category, overridden=overridden, order=order
    )
    if examples is None:
        example.save()
    else:
        examples.append(example)
    _event(
        order,
        act.ROUTED,
        actor,
        at=at,
        suggested=order.suggested_category,
        chosen=chosen,
        accepted=not overridden,
        confidence=order.suggestion_confidence,
    )


KNOWLEDGE_KINDS = ("reply", "policy")


def _knowledge_ref(errors: FieldErrors, ref: str) -> str:
    """A knowledge base entry named as "reply:<ref>" (a past official reply) or "policy:<ref>"."""
    from .models import PastReply, PolicyText

    ref = str(ref or "").strip()
    if not ref:
        return ""
    kind, _sep, key = ref.partition(":")
    model = {"reply": PastReply, "policy": PolicyText}.get(kind)
    if model is None or not key or not model.objects.filter(ref=key).exists():
        errors.add("knowledge_ref", "unknown", _("No knowledge base entry has this reference."))
        return ""
    return ref


def _answer(actor, order: WorkOrder, *, reply_text: str, knowledge_ref: str) -> WorkOrder:
    if order.order_type != OrderType.CONSULTATION:
        raise InvalidInput.single(
            "order_type", "not_consultation", _("Only a consultation is answered on the spot.")
        )
    errors = FieldErrors()
    reply_text = errors.require_text("reply_text", reply_text, max_length=TEXT_MAX)
    knowledge_ref = _knowledge_ref(errors, knowledge_ref)
    errors.raise_if_any()
    at = now()
    order.status = OrderStatus.ANSWERED
    order.reply_text = reply_text
    order.knowledge_ref = knowledge_ref
    order.replied_at = order.closed_at = at
    order.first_contacted_at = order.first_contacted_at or at
    order.save()
    _event(order, act.ANSWERED, actor, at=at, knowledge=knowledge_ref or None)
    return order


@use_case("hotline.answer_on_spot", object_type="work_order")
def answer_on_spot(actor, number: str, *, reply_text: str, knowledge_ref: str = "") -> WorkOrder:
    """直接办结: a consultation the operator answered from the knowledge base (a past official reply
    or a policy text, named by `knowledge_ref` when one was used), closed at once."""
    order = _centre_order(actor, number)
    current().audit.object_ref = order.number
    _require_status(order, OrderStatus.REGISTERED)
    return _answer(actor, order, reply_text=reply_text, knowledge_ref=knowledge_ref)


@use_case("hotline.answer_call", object_type="work_order")
def answer_call(actor, *, reply_text: str, knowledge_ref: str = "", **fields) -> WorkOrder:
    """直接办结 during the call: the consultation is recorded and closed with the answer given, in
    one step (never dispatched). The fields are those of `create_order`."""
    require(actor, perms.HOTLINE_CENTRE)
    fields["dispatch"] = False
    fields.setdefault("channel", Channel.PHONE)
    errors = FieldErrors()
    if str(fields.get("order_type") or "") != OrderType.CONSULTATION:
        errors.add("order_type", "not_consultation", _("Only a consultation is answered on the spot."))
    if not str(reply_text or "").strip():
        errors.add("reply_text", "required", _("Write the answer given to the caller."))
    errors.raise_if_any()
    order = create_order.__wrapped__(actor, **fields)
    current().audit.object_ref = order.number
    return _answer(actor, order, reply_text=reply_text, knowledge_ref=knowledge_ref)


# --- dispatch and department handling ------------------------------------------------------------


def _department(errors: FieldErrors, name: str, code: str) -> Department | None:
    if not code:
        errors.add(name, "required", _("Choose a department."))
        return None
    department = Department.objects.filter(code=code, is_active=True).first()
    if department is None:
        errors.add(name, "unknown", _("No department has this code."))
    return department


def _dispatch(actor, order: WorkOrder, lead: Department, co: list[Department], *, at, rule: str = "") -> None:
    # Whatever was still open of an earlier dispatch ends here: the history keeps it.
    for a in order.assignments.filter(status__in=[AssignmentStatus.DISPATCHED, AssignmentStatus.ACCEPTED]):
        a.status = AssignmentStatus.WITHDRAWN
        a.ended_at = at
        a.save(update_fields=["status", "ended_at"])
    Assignment.objects.create(
        order=order,
        department=lead,
        role=AssignmentRole.LEAD,
        status=AssignmentStatus.DISPATCHED,
        round=order.reopen_count,
        dispatched_at=at,
    )
    _event(
        order, act.DISPATCHED, actor, at=at, department=lead, role="lead", round=order.reopen_count, rule=rule
    )
    for department in co:
        Assignment.objects.create(
            order=order,
            department=department,
            role=AssignmentRole.CO,
            status=AssignmentStatus.DISPATCHED,
            round=order.reopen_count,
            dispatched_at=at,
        )
        _event(
            order,
            act.DISPATCHED,
            actor,
            at=at,
            department=department,
            role="co",
            round=order.reopen_count,
            rule=rule,
        )
    order.department = lead
    order.status = OrderStatus.DISPATCHED
    order.save(update_fields=["department", "status"])


@use_case("hotline.dispatch", object_type="work_order")
def dispatch(actor, number: str, *, lead: str, co: list[str] = (), category: str = "") -> WorkOrder:
    """派单: to one department, or to a lead (主办) with co-handlers (协办). The category may be set
    (or corrected) here; that choice is kept as training data for the router."""
    order = _centre_order(actor, number)
    current().audit.object_ref = order.number
    _require_status(order, OrderStatus.REGISTERED)
    errors = FieldErrors()
    lead_department = _department(errors, "lead", lead)
    co_departments = []
    for i, code in enumerate(co or []):
        department = _department(errors, f"co.{i}", code)
        if department is not None:
            if department == lead_department or department in co_departments:
                errors.add(f"co.{i}", "duplicate", _("Each department once, and not the lead again."))
            co_departments.append(department)
    category_obj = None
    if category:
        category_obj = category_by_path(category)
        if category_obj is None:
            errors.add("category", "unknown", _("No category has this name."))
    errors.raise_if_any()
    at = now()
    if category_obj is not None and category_obj != order.category:
        order.category = category_obj
        if order.suggested_category:
            order.suggestion_accepted = order.suggested_category == category_obj.top
        order.save(update_fields=["category", "suggestion_accepted"])
        _record_routing(order, actor, chosen=category_obj.top, at=at)
    current().audit.department_code = lead_department.code
    _dispatch(actor, order, lead_department, co_departments, at=at)
    return order


@use_case("hotline.accept", object_type="work_order")
def accept(actor, number: str) -> WorkOrder:
    """The department takes the order on; from now on it owns it (首接负责制 ends for the centre)."""
    order = access_order(actor, number, lock=True)
    current().audit.object_ref = order.number
    assignment = _handler_assignment(actor, order)
    if assignment.status != AssignmentStatus.DISPATCHED:
        raise Conflict(_("Your department has already accepted this work order."))
    at = now()
    assignment.status = AssignmentStatus.ACCEPTED
    assignment.accepted_at = at
    assignment.save(update_fields=["status", "accepted_at"])
    if assignment.role == AssignmentRole.LEAD:
        order.status = OrderStatus.IN_PROGRESS
        order.save(update_fields=["status"])
    current().audit.department_code = assignment.department.code
    _event(order, act.ACCEPTED, actor, at=at, department=assignment.department, role=assignment.role)
    return order


@use_case("hotline.record_contact", object_type="work_order")
def record_contact(actor, number: str) -> WorkOrder:
    """The requester was first contacted (the 响应率 counts this against the first-contact limit)."""
    order = access_order(actor, number, lock=True)
    current().audit.object_ref = order.number
    _require_status(order, OrderStatus.DISPATCHED, OrderStatus.IN_PROGRESS, OrderStatus.REPLIED)
    department = None
    if not is_centre(actor):
        department = _handler_assignment(actor, order).department
    if order.first_contacted_at is not None:
        raise Conflict(_("The first contact is already recorded."))
    at = now()
    order.first_contacted_at = at
    order.save(update_fields=["first_contacted_at"])
    _event(
        order, act.CONTACTED, actor, at=at, department=department, within_limit=at <= order.first_contact_due
    )
    return order


@use_case("hotline.return_order", object_type="work_order")
def return_order(actor, number: str, *, reason: str) -> WorkOrder:
    """退单: the department says the order is not its duty; the centre arbitrates. A co-handler
    returning ends only its own part."""
    order = access_order(actor, number, lock=True)
    current().audit.object_ref = order.number
    assignment = _handler_assignment(actor, order)
    errors = FieldErrors()
    reason = errors.require_text("reason", reason, max_length=REASON_MAX)
    errors.raise_if_any()
    at = now()
    assignment.status = AssignmentStatus.RETURNED
    assignment.return_reason = reason
    assignment.ended_at = at
    assignment.save(update_fields=["status", "return_reason", "ended_at"])
    if assignment.role == AssignmentRole.LEAD:
        order.status = OrderStatus.RETURNED
        order.save(update_fields=["status"])
    current().audit.department_code = assignment.department.code
    _event(order, act.RETURNED, actor, at=at, department=assignment.department, reason=reason)
    return order


def returned_assignment(order: WorkOrder) -> Assignment | None:
    return (
        order.assignments.filter(role=AssignmentRole.LEAD, status=AssignmentStatus.RETURNED, arbitration="")
        .select_related("department")
        .order_by("-dispatched_at", "-pk")
        .first()
    )


@use_case("hotline.arbitrate", object_type="work_order")
def arbitrate(actor, number: str, *, uphold: bool, department: str = "", note: str = "") -> WorkOrder:
    """The centre decides a 退单: upheld, the order goes to `department`; rejected, it goes back to
    the department that returned it."""
    order = _centre_order(actor, number)
    current().audit.object_ref = order.number
    _require_status(order, OrderStatus.RETURNED)
    returned = returned_assignment(order)
    errors = FieldErrors()
    target = None
    if uphold:
        target = _department(errors, "department", department)
        if target is not None and returned is not None and target == returned.department:
            errors.add("department", "same", _("The return was upheld: choose another department."))
    if len((note or "").strip()) > REASON_MAX:
        errors.add("note", "max_length", Formatted(_("At most %(n)d characters."), {"n": REASON_MAX}))
    errors.raise_if_any()
    at = now()
    if returned is not None:
        returned.arbitration = "upheld" if uphold else "rejected"
        returned.save(update_fields=["arbitration"])
        if target is None:
            target = returned.department
    _event(
        order,
        act.ARBITRATED,
        actor,
        at=at,
        department=returned.department if returned else None,
        decision="upheld" if uphold else "rejected",
        returned_by=returned.department.code if returned else "",
    )
    co = [
        a.department
        for a in order.assignments.filter(
            role=AssignmentRole.CO, status__in=[AssignmentStatus.DISPATCHED, AssignmentStatus.ACCEPTED]
        )
    ]
    _dispatch(actor, order, target, [d for d in co if d != target], at=at, rule="arbitration")
    return order


@use_case("hotline.approve_extension", object_type="work_order")
def approve_extension(actor, number: str) -> WorkOrder:
    """A complex order gets the extended limit (15 working days by default) from its intake."""
    order = _centre_order(actor, number)
    current().audit.object_ref = order.number
    _require_status(order, OrderStatus.DISPATCHED, OrderStatus.IN_PROGRESS)
    if order.extended:
        raise Conflict(_("The extension is already approved."))
    order.extended = True
    limits = limits_for(order.urgency, order.order_type)
    order.resolution_due = get_calendar().deadline(order.received_at, limits.extended_working_days)
    order.save(update_fields=["extended", "resolution_due"])
    _event(order, act.EXTENDED, actor, working_days=limits.extended_working_days)
    return order


@use_case("hotline.reply", object_type="work_order")
def reply(actor, number: str, *, text: str, outcome: str) -> WorkOrder:
    """答复: the lead's reply goes to the centre for review; a co-handler's reply is its input to the lead."""
    order = access_order(actor, number, lock=True)
    current().audit.object_ref = order.number
    assignment = _handler_assignment(actor, order)
    if assignment.status != AssignmentStatus.ACCEPTED:
        raise Conflict(_("Accept the work order first."))
    errors = FieldErrors()
    text = errors.require_text("text", text, max_length=TEXT_MAX)
    outcome = _choice(errors, "outcome", outcome, Outcome)
    errors.raise_if_any()
    at = now()
    assignment.status = AssignmentStatus.REPLIED
    assignment.reply_text = text
    assignment.outcome = outcome
    assignment.ended_at = at
    assignment.save(update_fields=["status", "reply_text", "outcome", "ended_at"])
    if assignment.role == AssignmentRole.LEAD:
        order.status = OrderStatus.REPLIED
        order.reply_text = text
        order.outcome = outcome
        order.replied_at = at
        order.save(update_fields=["status", "reply_text", "outcome", "replied_at"])
    current().audit.department_code = assignment.department.code
    _event(
        order,
        act.REPLIED,
        actor,
        at=at,
        department=assignment.department,
        outcome=outcome,
        role=assignment.role,
    )
    return order


def _after_closing(order: WorkOrder) -> None:
    """A closed order's city events call their systems back (city_events, after the commit)."""
    from .city_events import after_closing

    after_closing(order)


@use_case("hotline.review", object_type="work_order")
def review(actor, number: str, *, accept: bool, reason: str = "") -> WorkOrder:
    """The centre accepts the reply (on to callback) or sends it back to the lead with a reason."""
    order = _centre_order(actor, number)
    current().audit.object_ref = order.number
    _require_status(order, OrderStatus.REPLIED)
    at = now()
    if accept:
        order.status = OrderStatus.REVIEWED
        order.save(update_fields=["status"])
        _event(order, act.REVIEW_ACCEPTED, actor, at=at)
        if order.channel == Channel.CITY_EVENT and not order.requesters.exists():
            # a sensor's order has nobody to call back: the accepted reply closes it, and the
            # posting system reads the closing status
            order.status = OrderStatus.CLOSED
            order.closed_at = at
            order.save(update_fields=["status", "closed_at"])
            within = order.replied_at is not None and order.replied_at <= order.resolution_due
            _event(order, act.CLOSED, actor, at=at, outcome=order.outcome, within_limit=within)
            _after_closing(order)
        return order
    errors = FieldErrors()
    reason = errors.require_text("reason", reason, max_length=REASON_MAX)
    errors.raise_if_any()
    lead = (
        order.assignments.filter(role=AssignmentRole.LEAD, status=AssignmentStatus.REPLIED)
        .order_by("-dispatched_at", "-pk")
        .first()
    )
    if lead is not None:
        lead.status = AssignmentStatus.ACCEPTED
        lead.ended_at = None
        lead.save(update_fields=["status", "ended_at"])
    order.status = OrderStatus.IN_PROGRESS
    order.save(update_fields=["status"])
    _event(order, act.SENT_BACK, actor, at=at, reason=reason)
    return order


@use_case("hotline.callback", object_type="work_order")
def callback(
    actor,
    number: str,
    *,
    contacted: bool,
    solved: str = "",
    satisfaction: str = "",
    note: str = "",
    close_unreached: bool = False,
) -> WorkOrder:
    """回访: a call that reaches the requester records whether it was solved and how satisfied they
    are, and closes the order; an unreached call is recorded and the order waits for another try
    (or closes, when the centre decides nobody can be reached, e.g. an anonymous order)."""
    order = _centre_order(actor, number)
    current().audit.object_ref = order.number
    _require_status(order, OrderStatus.REVIEWED)
    errors = FieldErrors()
    if contacted:
        solved = _choice(errors, "solved", solved, CallbackSolved)
        if satisfaction:
            satisfaction = _choice(errors, "satisfaction", satisfaction, Satisfaction)
    else:
        solved = satisfaction = ""
    note = (note or "").strip()
    if len(note) > REASON_MAX:
        errors.add("note", "max_length", Formatted(_("At most %(n)d characters."), {"n": REASON_MAX}))
    errors.raise_if_any()
    at = now()
    user = getattr(actor, "user", None)
    Callback.objects.create(
        order=order,
        at=at,
        contacted=bool(contacted),
        solved=solved,
        satisfaction=satisfaction,
        note=note,
        department=order.department,
        by=user,
    )
    _event(
        order,
        act.CALLBACK,
        actor,
        at=at,
        contacted=bool(contacted),
        solved=solved,
        satisfaction=satisfaction,
        lead=order.department.code if order.department else "",
    )
    if contacted or close_unreached:
        order.status = OrderStatus.CLOSED
        order.closed_at = at
        order.save(update_fields=["status", "closed_at"])
        within = order.replied_at is not None and order.replied_at <= order.resolution_due
        _event(order, act.CLOSED, actor, at=at, outcome=order.outcome, within_limit=within)
        _after_closing(order)
    return order


@use_case("hotline.reopen", object_type="work_order")
def reopen(actor, number: str, *, reason: str, department: str = "") -> WorkOrder:
    """重办: a dissatisfied requester's order goes back to its lead (or another department) as a new
    round with a fresh clock; counted against the department that handled it."""
    order = _centre_order(actor, number)
    current().audit.object_ref = order.number
    _require_status(order, OrderStatus.CLOSED)
    errors = FieldErrors()
    reason = errors.require_text("reason", reason, max_length=REASON_MAX)
    target = order.department
    if department:
        target = _department(errors, "department", department)
    if target is None:
        errors.add("department", "required", _("Choose a department."))
    errors.raise_if_any()
    at = now()
    previous = order.department
    order.reopen_count += 1
    order.reply_text = ""
    order.outcome = ""
    order.replied_at = None
    order.closed_at = None
    order.extended = False
    _set_clock(order, at)
    order.save()
    _event(
        order,
        act.REOPENED,
        actor,
        at=at,
        department=previous,
        reason=reason,
        lead=previous.code if previous else "",
        round=order.reopen_count,
    )
    _dispatch(actor, order, target, [], at=at, rule="reopen")
    return order


# --- history -------------------------------------------------------------------------------------


def history(actor, number: str):
    """The order's events from the core log, for its page."""
    from tongban.core import events

    order = access_order(actor, number)
    return order, events.history(KIND, order.number)


def open_orders_count(actor) -> int:
    return orders(actor).filter(status__in=OPEN_STATUSES).count()


def worklist(actor, *, status: str = "", department: str = "", q: str = "", cluster: str = "") -> QuerySet:
    """The orders a page lists for this viewer, newest first, with simple filters."""
    qs = orders(actor)
    if status:
        qs = qs.filter(status=status)
    if department:
        qs = qs.filter(department__code=department)
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(text__icontains=q))
    if cluster:
        qs = qs.filter(cluster=str(cluster)[:24])
    return qs.order_by("-received_at")


# --- the taxonomy and the centre's category → department map ------------------------------------


@use_case("hotline.import_taxonomy", object_type="hotline_taxonomy")
def import_taxonomy(actor, rows) -> int:
    """Add the taxonomy's missing nodes from (一级, 二级, 三级) rows; existing nodes and their
    department map are kept. Returns how many nodes were created."""
    require(actor, perms.HOTLINE_CENTRE)
    existing = {c.path: c for c in Category.objects.all()}
    errors = FieldErrors()
    created = 0
    for n, row in enumerate(rows):
        names = [str(part or "").strip() for part in row][:3]
        while names and not names[-1]:
            names.pop()
        if not names or any(not name or "/" in name or len(name) > 60 for name in names):
            errors.add(f"row {n + 1}", "invalid", _("Each row needs one to three names, without '/'."))
            continue
        parent = None
        for level in range(1, len(names) + 1):
            path = "/".join(names[:level])
            node = existing.get(path)
            if node is None:
                node = existing[path] = Category.objects.create(
                    name=names[level - 1], level=level, parent=parent, path=path
                )
                created += 1
            parent = node
    errors.raise_if_any()
    current().audit.detail = {"created": created}
    return created


@use_case("hotline.map_category", object_type="hotline_category")
def map_category(actor, path: str, department_code: str) -> Category:
    """The centre sets (or clears, with an empty code) the department that owns a category."""
    require(actor, perms.HOTLINE_CENTRE)
    node = Category.objects.filter(path=str(path or "").strip()).first()
    errors = FieldErrors()
    if node is None:
        errors.add("path", "unknown", _("No category has this name."))
    department = None
    if department_code:
        department = _department(errors, "department_code", department_code)
    errors.raise_if_any()
    node.department = department
    node.save(update_fields=["department"])
    uow = current()
    uow.audit.object_ref = node.path
    uow.audit.detail = {"department": department.code if department else ""}
    return node


# --- routing suggestions -------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteSuggestion:
    """What the router proposes to the operator: a first-level category and its department, or
    nothing (abstained, or no model trained yet) — then the operator chooses."""

    category: str
    confidence: float
    department_code: str
    department_name: str
    ranked: tuple[tuple[str, float], ...]
    model_version: int

    @property
    def abstained(self) -> bool:
        return not self.category


def suggest_route(actor, text: str) -> RouteSuggestion:
    require(actor, perms.HOTLINE_CENTRE)
    from . import router

    model = router.load()
    if model is None or not (text or "").strip():
        return RouteSuggestion("", 0.0, "", "", (), model.version if model else 0)
    suggestion = model.suggest(text)
    department = None
    if suggestion.label:
        department = department_for(category_by_path(suggestion.label))
    return RouteSuggestion(
        suggestion.label or "",
        round(suggestion.confidence, 4),
        department.code if department else "",
        department.name if department else "",
        tuple(suggestion.ranked),
        model.version,
    )


# --- the three rates (响应率, 解决率, 满意率) per department ----------------------------------------


@dataclass(frozen=True)
class DepartmentRates:
    """DOMAIN.md's formulas for one department and period; a rate is None when nothing counted."""

    department_code: str
    department_name: str
    due: int  # orders whose first contact was settled (made, or its limit ran out) in the period
    responded: int  # ... of which first contacted within it
    callbacks: int  # callbacks that reached the requester
    solved: float  # solved + half of partly solved
    rated: int
    satisfied: int
    closed: int
    reopened: int

    @staticmethod
    def _share(part, whole):
        return round(part / whole, 4) if whole else None

    @property
    def response_rate(self):
        return self._share(self.responded, self.due)

    @property
    def resolution_rate(self):
        return self._share(self.solved, self.callbacks)

    @property
    def satisfaction_rate(self):
        return self._share(self.satisfied, self.rated)

    @property
    def reopen_rate(self):
        return self._share(self.reopened, self.closed)


PARTLY_SOLVED_WEIGHT = 0.5  # DOMAIN.md default: a partly solved order counts half


def rates(actor, *, start: dt.datetime, end: dt.datetime) -> list[DepartmentRates]:
    """The rates of every department with orders in [start, end), counted in the database.

    响应率: first contacted within the limit / orders whose first contact was settled
    in the period (made, or its limit ran out uncontacted), by the owning department.
    解决率 and 满意率 count the callbacks made in the period, for the department that
    led the order then. 重办率: reopens in the period / orders closed in it."""
    from django.db.models import Count, F
    from django.db.models.functions import Coalesce, Least

    if not (may_read_all(actor) or actor.can(perms.HOTLINE_HANDLE)):
        raise NotPermitted()
    visible = Department.objects.all()
    if not may_read_all(actor):
        visible = visible.filter(actor.scope_q(perms.HOTLINE_HANDLE, path_field="path"))
    ids = set(visible.values_list("pk", flat=True))
    # An order's first contact is settled when it is made or when its limit runs out, whichever
    # comes first: it counts in the period where that falls, so a prompt contact shows at once.
    due = (
        WorkOrder.objects.annotate(
            settled_at=Least("first_contact_due", Coalesce("first_contacted_at", "first_contact_due"))
        )
        .filter(settled_at__gte=start, settled_at__lt=end, department__isnull=False)
        # a merged order is handled as part of another; one answered on the spot never reached a
        # department (直接办结 is counted on its own: answered_on_spot)
        .exclude(status__in=[OrderStatus.MERGED, OrderStatus.ANSWERED])
        .values("department")
        .annotate(
            due=Count("pk"),
            responded=Count("pk", filter=Q(first_contacted_at__lte=F("first_contact_due"))),
        )
    )
    made = (
        Callback.objects.filter(at__gte=start, at__lt=end, contacted=True, department__isnull=False)
        .values("department")
        .annotate(
            n_callbacks=Count("pk"),
            n_solved=Count("pk", filter=Q(solved=CallbackSolved.SOLVED)),
            n_partly=Count("pk", filter=Q(solved=CallbackSolved.PARTLY)),
            n_rated=Count("pk", filter=~Q(satisfaction="")),
            n_satisfied=Count(
                "pk", filter=Q(satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED])
            ),
        )
    )
    closed = (
        WorkOrder.objects.filter(closed_at__gte=start, closed_at__lt=end, department__isnull=False)
        .exclude(status=OrderStatus.ANSWERED)
        .values("department")
        .annotate(closed=Count("pk"))
    )
    # a reopen counts against the department that had handled the order: the previous round's lead
    reopened = (
        Assignment.objects.filter(
            role=AssignmentRole.LEAD,
            round__gte=1,
            dispatched_at__gte=start,
            dispatched_at__lt=end,
            order__assignments__role=AssignmentRole.LEAD,
            order__assignments__round=F("round") - 1,
        )
        .values(previous_lead=F("order__assignments__department"))
        .annotate(reopened=Count("order", distinct=True))
    )
    figures: dict[int, dict] = {}
    for row in due:
        figures.setdefault(row["department"], {}).update(due=row["due"], responded=row["responded"])
    for row in made:
        figures.setdefault(row["department"], {}).update(
            callbacks=row["n_callbacks"],
            solved=row["n_solved"] + PARTLY_SOLVED_WEIGHT * row["n_partly"],
            rated=row["n_rated"],
            satisfied=row["n_satisfied"],
        )
    for row in closed:
        figures.setdefault(row["department"], {}).update(closed=row["closed"])
    for row in reopened:
        figures.setdefault(row["previous_lead"], {}).update(reopened=row["reopened"])
    departments = {d.pk: d for d in Department.objects.filter(pk__in=[k for k in figures if k in ids])}
    out = []
    for pk, department in sorted(departments.items(), key=lambda item: item[1].path):
        f = figures[pk]
        out.append(
            DepartmentRates(
                department.code,
                department.short_name or department.name,
                f.get("due", 0),
                f.get("responded", 0),
                f.get("callbacks", 0),
                f.get("solved", 0),
                f.get("rated", 0),
                f.get("satisfied", 0),
                f.get("closed", 0),
                f.get("reopened", 0),
            )
        )
    return out


@dataclass(frozen=True)
class AnsweredOnSpot:
    """直接办结, counted apart from the departments' rates: consultations the centre answered on the
    spot, of the consultations received in the period."""

    answered: int
    consultations: int
    from_knowledge: int  # ... of which answered from a named knowledge base entry

    @property
    def rate(self) -> float | None:
        return round(self.answered / self.consultations, 4) if self.consultations else None


def answered_on_spot(actor, *, start: dt.datetime, end: dt.datetime) -> AnsweredOnSpot:
    from django.db.models import Count

    if not may_read_all(actor):
        raise NotPermitted()
    counts = WorkOrder.objects.filter(
        order_type=OrderType.CONSULTATION, received_at__gte=start, received_at__lt=end
    ).aggregate(
        consultations=Count("pk", filter=~Q(status=OrderStatus.MERGED)),
        answered=Count("pk", filter=Q(status=OrderStatus.ANSWERED)),
        from_knowledge=Count("pk", filter=Q(status=OrderStatus.ANSWERED) & ~Q(knowledge_ref="")),
    )
    return AnsweredOnSpot(counts["answered"], counts["consultations"], counts["from_knowledge"])


def available_actions(actor, order: WorkOrder) -> set[str]:
    """What the order's page offers this viewer: the same rules the use cases enforce."""
    actions: set[str] = set()
    centre = is_centre(actor)
    status = order.status
    mine = _handling_assignments(actor, order, active_only=True) if not centre else []
    if centre:
        if status == OrderStatus.REGISTERED:
            actions.add("dispatch")
            if order.order_type == OrderType.CONSULTATION:
                actions.add("answer")
        if status == OrderStatus.RETURNED:
            actions.add("arbitrate")
        if status in (OrderStatus.DISPATCHED, OrderStatus.IN_PROGRESS) and not order.extended:
            actions.add("extend")
        if status == OrderStatus.REPLIED:
            actions.add("review")
        if status == OrderStatus.REVIEWED:
            actions.add("callback")
        if status == OrderStatus.CLOSED:
            actions.add("reopen")
    if mine and status in (OrderStatus.DISPATCHED, OrderStatus.IN_PROGRESS):
        if any(a.status == AssignmentStatus.DISPATCHED for a in mine):
            actions.add("accept")
        if any(a.status == AssignmentStatus.ACCEPTED for a in mine):
            actions.add("reply")
        actions.add("return")
    if (
        (centre or mine)
        and order.first_contacted_at is None
        and status in (OrderStatus.DISPATCHED, OrderStatus.IN_PROGRESS, OrderStatus.REPLIED)
    ):
        actions.add("contact")
    return actions


# --- Open311 ---------------------------------------------------------------------------------------


@use_case("hotline.open311_intake", object_type="work_order")
def open311_intake(actor, *, client, service_code: str, account_id: str, token: str, **fields) -> WorkOrder:
    """A service request posted through Open311 GeoReport v2: the intake of any channel, and the
    link to the client that posted it (which alone may read it back) with its token."""
    from .models import Open311Request

    order = create_order.__wrapped__(actor, channel=Channel.OPEN311, **fields)
    Open311Request.objects.create(
        order=order, client=client, token=token, service_code=service_code, account_id=account_id
    )
    current().audit.detail = {"client": client.name}
    return order
