"""Open311 GeoReport v2 at /open311/v2 (http://wiki.open311.org/GeoReport_v2): discovery, services
(our taxonomy), service definitions, POST requests, GET requests (filters, 90-day / 1,000-row
defaults), GET requests/{id} and tokens, each as .json or .xml.

Who may do what: discovery, services and service definitions are public. Posting and reading
requests needs an `api_key` of an active `Open311Client` (the centre issues keys:
`tongban hotline open311-client NAME`); a client reads only the requests it posted (they hold
citizens' words and places). Every post is the intake use case (journalled, indexed for duplicates);
every read of requests is journalled. Errors are the specification's list of {code, description}
with 400, 403 or 404; times are ISO 8601 with their zone.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import secrets
from xml.etree import ElementTree as ET

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from tongban.core import audit, crypto
from tongban.core.authz import SystemActor
from tongban.core.errors import Conflict, InvalidInput, NotPermitted

from . import services
from .models import OPEN_STATUSES, Category, Open311Client, Open311Request, OrderType, Urgency, WorkOrder

KEY_CONTEXT = "hotline.Open311Client.key"
DEFAULT_DAYS = 90
MAX_ROWS = 1000
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


class Open311Error(Exception):
    def __init__(self, status: int, description: str, code: int | None = None):
        self.status, self.description, self.code = status, description, code or status


# --- rendering -----------------------------------------------------------------------------------


def _xml(root: str, item: str | None, data) -> bytes:
    top = ET.Element(root)

    def fill(element, value):
        if isinstance(value, dict):
            for key, sub in value.items():
                if isinstance(sub, list):
                    holder = ET.SubElement(element, key)
                    for entry in sub:
                        fill(ET.SubElement(holder, key[:-1] if key.endswith("s") else key), entry)
                else:
                    fill(ET.SubElement(element, key), sub)
        elif value is None:
            pass
        elif isinstance(value, bool):
            element.text = "true" if value else "false"
        else:
            element.text = str(value)

    if item is None:
        fill(top, data)
    else:
        for entry in data:
            fill(ET.SubElement(top, item), entry)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")


def _respond(fmt: str, data, *, root: str, item: str | None, status: int = 200) -> HttpResponse:
    body = _xml(root, item, data) if fmt == "xml" else json.dumps(data, ensure_ascii=False).encode("utf-8")
    return HttpResponse(body, status=status, content_type=FORMATS[fmt])


def _error(fmt: str, status: int, description: str, code: int | None = None) -> HttpResponse:
    data = [{"code": code or status, "description": str(description)}]
    return _respond(fmt if fmt in FORMATS else "json", data, root="errors", item="error", status=status)


def endpoint(view):
    """Format check, errors in the specification's shape, and nothing but those (never a 500 for
    bad input)."""

    @functools.wraps(view)
    def wrapped(request, *args, fmt: str, **kwargs):
        if fmt not in FORMATS:
            return _error("json", 404, "Unknown format: use .json or .xml.")
        try:
            return view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as exc:
            return _error(fmt, exc.status, exc.description, exc.code)
        except InvalidInput as exc:
            problems = "; ".join(f"{name}: {p.message}" for name, ps in exc.fields.items() for p in ps)
            return _error(fmt, 400, problems or str(exc.message))
        except (NotPermitted, Conflict) as exc:
            return _error(fmt, 403 if isinstance(exc, NotPermitted) else 400, str(exc.message))

    return csrf_exempt(wrapped)


def iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


# --- clients and services --------------------------------------------------------------------------


def key_index(api_key: str) -> str:
    return crypto.blind_index(api_key, KEY_CONTEXT)


def issue_key(name: str) -> str:
    """A new client with a fresh key (shown once); the journal records who was given one."""
    key = secrets.token_urlsafe(24)
    with transaction.atomic():
        Open311Client.objects.create(name=name, key_index=key_index(key))
        audit.record(
            "hotline.open311_client", actor=SystemActor("cli"), object_type="open311_client", object_ref=name
        )
    return key


def _client(request) -> Open311Client:
    api_key = (request.POST.get("api_key") or request.GET.get("api_key") or "").strip()
    if not api_key:
        raise Open311Error(403, "An api_key is required.")
    client = Open311Client.objects.filter(key_index=key_index(api_key[:200]), active=True).first()
    if client is None:
        raise Open311Error(403, "The api_key is not valid.")
    return client


def service_code(category: Category) -> str:
    """A stable code for a taxonomy node (its path's hash: the path holds '/' and Chinese)."""
    return "c" + hashlib.sha1(category.path.encode("utf-8")).hexdigest()[:10]  # noqa: S324 (a name, not a secret)


def _categories() -> dict[str, Category]:
    return {service_code(c): c for c in Category.objects.all()}


def _service(c: Category) -> dict:
    return {
        "service_code": service_code(c),
        "service_name": c.name,
        "description": c.path,
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(c.path.split("/")),
        "group": c.top,
    }


ATTRIBUTES = [
    ("order_type", "Type (诉求类型)", OrderType, True, OrderType.COMPLAINT),
    ("urgency", "Urgency (紧急程度)", Urgency, False, Urgency.NORMAL),
]


@endpoint
def discovery(request, *, fmt):
    base = (
        request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": fmt})).rsplit("/", 1)[0] + "/"
    )
    data = {
        "changeset": "2026-12-07T00:00:00+08:00",
        "contact": getattr(settings, "TONGBAN_OPEN311_CONTACT", "12345"),
        "key_service": "Ask the 12345 centre for an api_key.",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": "2026-12-07T00:00:00+08:00",
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    if fmt == "xml":
        return HttpResponse(_discovery_xml(data), content_type=FORMATS["xml"])
    return _respond(fmt, data, root="discovery", item=None)


def _discovery_xml(data) -> bytes:
    top = ET.Element("discovery")
    for key in ("changeset", "contact", "key_service"):
        ET.SubElement(top, key).text = data[key]
    endpoints = ET.SubElement(top, "endpoints")
    for e in data["endpoints"]:
        node = ET.SubElement(endpoints, "endpoint")
        for key in ("specification", "url", "changeset", "type"):
            ET.SubElement(node, key).text = e[key]
        formats = ET.SubElement(node, "formats")
        for f in e["formats"]:
            ET.SubElement(formats, "format").text = f
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")


@endpoint
def service_list(request, *, fmt):
    return _respond(fmt, [_service(c) for c in Category.objects.all()], root="services", item="service")


@endpoint
def service_definition(request, code: str, *, fmt):
    category = _categories().get(code)
    if category is None:
        raise Open311Error(404, "No service has this service_code.")
    attributes = [
        {
            "variable": True,
            "code": name,
            "datatype": "singlevaluelist",
            "required": required,
            "datatype_description": f"default {default}",
            "order": n,
            "description": label,
            "values": [{"key": key, "name": str(text)} for key, text in choices.choices],
        }
        for n, (name, label, choices, required, default) in enumerate(ATTRIBUTES, start=1)
    ]
    data = {"service_code": code, "attributes": attributes}
    if fmt == "xml":
        return HttpResponse(_definition_xml(data), content_type=FORMATS["xml"])
    return _respond(fmt, data, root="service_definition", item=None)


def _definition_xml(data) -> bytes:
    top = ET.Element("service_definition")
    ET.SubElement(top, "service_code").text = data["service_code"]
    attributes = ET.SubElement(top, "attributes")
    for a in data["attributes"]:
        node = ET.SubElement(attributes, "attribute")
        for key in (
            "variable",
            "code",
            "datatype",
            "required",
            "datatype_description",
            "order",
            "description",
        ):
            value = a[key]
            ET.SubElement(node, key).text = (
                ("true" if value else "false") if isinstance(value, bool) else str(value)
            )
        values = ET.SubElement(node, "values")
        for v in a["values"]:
            item = ET.SubElement(values, "value")
            ET.SubElement(item, "key").text = v["key"]
            ET.SubElement(item, "name").text = v["name"]
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")


# --- requests --------------------------------------------------------------------------------------


def _request_row(order: WorkOrder, link: Open311Request | None) -> dict:
    closed = order.status not in OPEN_STATUSES
    category = order.category
    return {
        "service_request_id": order.number,
        "status": "closed" if closed else "open",
        "status_notes": order.reply_text if closed and order.reply_text else order.get_status_display(),
        "service_name": category.name if category else "",
        "service_code": service_code(category) if category else (link.service_code if link else ""),
        "description": order.text,
        "agency_responsible": order.department.name if order.department else "",
        "service_notice": "",
        "requested_datetime": iso(order.received_at),
        "updated_datetime": iso(order.closed_at or order.replied_at or order.received_at),
        "expected_datetime": iso(order.resolution_due),
        "address": order.address,
        "address_id": "",
        "zipcode": "",
        "lat": float(order.latitude) if order.latitude is not None else None,
        "long": float(order.longitude) if order.longitude is not None else None,
        "media_url": "",
    }


def _date(name: str, value: str) -> dt.datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value.strip().replace(" ", "+"))
    if parsed is None:
        try:
            parsed = dt.datetime.combine(dt.date.fromisoformat(value.strip()), dt.time.min)
        except ValueError:
            raise Open311Error(
                400, f"{name}: give an ISO 8601 date and time, e.g. 2026-12-07T09:00:00+08:00."
            ) from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


@endpoint
def requests(request, *, fmt):
    if request.method == "POST":
        return _post_request(request, fmt)
    if request.method != "GET":
        raise Open311Error(400, "Use GET or POST.")
    client = _client(request)
    qs = WorkOrder.objects.filter(open311__client=client).select_related("category", "department", "open311")
    ids = [i.strip() for i in request.GET.get("service_request_id", "").split(",") if i.strip()]
    if ids:
        qs = qs.filter(number__in=ids[:MAX_ROWS])  # the other filters are ignored (the specification)
    else:
        start = _date("start_date", request.GET.get("start_date", ""))
        end = _date("end_date", request.GET.get("end_date", ""))
        if start and end and start > end:
            raise Open311Error(400, "start_date is after end_date.")
        if start is None:
            start = (end or timezone.now()) - dt.timedelta(days=DEFAULT_DAYS)
        qs = qs.filter(received_at__gte=start)
        if end is not None:
            qs = qs.filter(received_at__lte=end)
        codes = [c.strip() for c in request.GET.get("service_code", "").split(",") if c.strip()]
        if codes:
            known = _categories()
            qs = qs.filter(category__in=[known[c] for c in codes if c in known])
        statuses = {s.strip() for s in request.GET.get("status", "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, "status: open, closed or both (comma-separated).")
        if statuses == {"open"}:
            qs = qs.filter(status__in=OPEN_STATUSES)
        elif statuses == {"closed"}:
            qs = qs.exclude(status__in=OPEN_STATUSES)
    rows = list(qs.order_by("-received_at")[:MAX_ROWS])
    audit.record(
        "hotline.open311_read",
        actor=SystemActor(f"open311:{client.name}"),
        object_type="work_order",
        detail={"rows": len(rows)},
    )
    return _respond(fmt, [_request_row(o, o.open311) for o in rows], root="service_requests", item="request")


def _post_request(request, fmt):
    client = _client(request)
    data = request.POST
    code = data.get("service_code", "").strip()
    category = _categories().get(code)
    if category is None:
        raise Open311Error(
            400, "service_code: no service has this code." if code else "service_code is required."
        )
    lat, lon = data.get("lat", "").strip(), data.get("long", "").strip()
    address = (data.get("address_string") or "").strip()
    if not (lat and lon) and not address and not data.get("address_id"):
        raise Open311Error(400, "A location is required: lat and long, address_string or address_id.")
    name = " ".join(p for p in (data.get("first_name", "").strip(), data.get("last_name", "").strip()) if p)
    actor = SystemActor(f"open311:{client.name}")
    order = services.open311_intake(
        actor,
        text=data.get("description", "").strip() or category.path,
        order_type=data.get("attribute[order_type]", "") or OrderType.COMPLAINT,
        urgency=data.get("attribute[urgency]", "") or Urgency.NORMAL,
        requester_name=name,
        anonymous=not name,
        phone=data.get("phone", "").strip(),
        address=address or data.get("address_id", "").strip(),
        latitude=lat or None,
        longitude=lon or None,
        category=category.path,
        client=client,
        service_code=code,
        account_id=data.get("account_id", "").strip()[:100],
        token=secrets.token_urlsafe(18),
    )
    link = order.open311
    out = [
        {
            "service_request_id": order.number,
            "token": link.token,
            "service_notice": "",
            "account_id": link.account_id or None,
        }
    ]
    return _respond(fmt, out, root="service_requests", item="request", status=201)


@endpoint
def request_detail(request, number: str, *, fmt):
    client = _client(request)
    order = (
        WorkOrder.objects.filter(number=number, open311__client=client)
        .select_related("category", "department", "open311")
        .first()
    )
    if order is None:
        raise Open311Error(404, "No service request has this id.")
    audit.record(
        "hotline.open311_read",
        actor=SystemActor(f"open311:{client.name}"),
        object_type="work_order",
        object_ref=order.number,
    )
    return _respond(fmt, [_request_row(order, order.open311)], root="service_requests", item="request")


@endpoint
def token_detail(request, token: str, *, fmt):
    client = _client(request)
    link = Open311Request.objects.filter(token=token, client=client).select_related("order").first()
    if link is None:
        raise Open311Error(404, "No service request has this token.")
    return _respond(
        fmt,
        [{"service_request_id": link.order.number, "token": link.token}],
        root="service_requests",
        item="request",
    )
