"""Open311 GeoReport v2 conformance: JSON Schemas written from the specification
(tests/hotline/open311_schemas) validate every response, JSON and XML (the XML read into the same
shape); a client posts a request, lists it and fetches it in both formats; errors are the
specification's [{code, description}] with 400, 403 and 404."""

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema_rs
import pytest
from django.test import Client

from tongban.core.models import AuditEntry
from tongban.hotline import open311
from tongban.hotline.models import Channel, WorkOrder

from .conftest import category

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).parent / "open311_schemas"
BOOLEAN = {"metadata", "variable", "required"}
INTEGER = {"order"}
NUMBER = {"lat", "long"}
# XML wrappers of repeated elements: <endpoints><endpoint>, <formats><format>, <attributes><attribute>…
LISTS = {"endpoints", "formats", "attributes", "values"}


def schema(name: str):
    return jsonschema_rs.validator_for(json.loads((SCHEMAS / f"{name}.json").read_text()))


def from_xml(element):
    """An XML response in the JSON shape: repeated elements as lists, the spec's types restored."""
    children = list(element)
    if not children:
        text = element.text
        if element.tag in BOOLEAN:
            return text == "true"
        if element.tag in INTEGER or (element.tag == "code" and text and text.isdigit()):
            return int(text)
        if element.tag in NUMBER:
            return float(text) if text else None
        if text is None and element.tag not in ("description", "service_notice", "status_notes"):
            return None
        return text or ""
    if element.tag in LISTS or (len({c.tag for c in children}) == 1 and len(children) > 1):
        return [from_xml(c) for c in children]
    return {c.tag: from_xml(c) for c in children}


def body(response, fmt):
    if fmt == "json":
        assert response["Content-Type"].startswith("application/json")
        return json.loads(response.content)
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)  # noqa: S314 (our own server's answer)
    if root.tag in ("services", "service_requests", "errors"):
        return [from_xml(c) for c in root]
    return from_xml(root)


def check(response, fmt, name, status=200):
    assert response.status_code == status, response.content[:300]
    data = body(response, fmt)
    errors = [e.message for e in schema(name).iter_errors(data)]
    assert errors == [], (name, fmt, errors, data)
    return data


@pytest.fixture
def key(db):
    category("城乡建设", "zjj")
    category("城乡建设/城市建设和市政管理/园林绿化环卫")
    return open311.issue_key("city-app")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_client_posts_lists_and_fetches_a_request(key, fmt):
    client = Client()
    check(client.get(f"/open311/v2/discovery.{fmt}"), fmt, "discovery")
    services = check(client.get(f"/open311/v2/services.{fmt}"), fmt, "services")
    code = next(
        s["service_code"] for s in services if s["description"] == "城乡建设/城市建设和市政管理/园林绿化环卫"
    )
    definition = check(client.get(f"/open311/v2/services/{code}.{fmt}"), fmt, "service_definition")
    assert {a["code"] for a in definition["attributes"]} == {"order_type", "urgency"}

    posted = check(
        client.post(
            f"/open311/v2/requests.{fmt}",
            {
                "api_key": key,
                "service_code": code,
                "lat": "30.456",
                "long": "106.633",
                "description": "建设路垃圾三天没有清运",
                "first_name": "赵",
                "last_name": "六",
                "phone": "13800001234",
                "attribute[urgency]": "urgent",
            },
        ),
        fmt,
        "post_response",
        status=201,
    )
    number = posted[0]["service_request_id"]
    order = WorkOrder.objects.get(number=number)
    assert (
        order.channel == Channel.OPEN311
        and order.urgency == "urgent"
        and order.category.path.endswith("环卫")
    )
    assert AuditEntry.objects.filter(action="hotline.open311_intake", object_ref=number).exists()

    listed = check(client.get(f"/open311/v2/requests.{fmt}", {"api_key": key}), fmt, "requests")
    assert [r["service_request_id"] for r in listed] == [number]
    assert listed[0]["status"] == "open" and listed[0]["lat"] == pytest.approx(30.456)
    assert listed[0]["requested_datetime"].endswith("+08:00")
    fetched = check(client.get(f"/open311/v2/requests/{number}.{fmt}", {"api_key": key}), fmt, "requests")
    assert fetched[0]["description"] == "建设路垃圾三天没有清运"
    by_token = check(
        client.get(f"/open311/v2/tokens/{posted[0]['token']}.{fmt}", {"api_key": key}), fmt, "token"
    )
    assert by_token[0]["service_request_id"] == number
    # the standard filters
    for query, expected in (
        ({"status": "open"}, [number]),
        ({"status": "closed"}, []),
        ({"service_code": code}, [number]),
        ({"service_code": "nothing"}, []),
        ({"start_date": "2001-01-01T00:00:00+08:00", "end_date": "2001-02-01T00:00:00Z"}, []),
        ({"service_request_id": f"{number},H1"}, [number]),
    ):
        rows = check(client.get(f"/open311/v2/requests.{fmt}", {"api_key": key, **query}), fmt, "requests")
        assert [r["service_request_id"] for r in rows] == expected, query
    assert AuditEntry.objects.filter(action="hotline.open311_read").count() >= 8


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_are_the_specifications_list(key, fmt):
    client = Client()
    code = open311.service_code(WorkOrder._meta.apps.get_model("hotline", "Category").objects.first())
    cases = [
        (client.get(f"/open311/v2/requests.{fmt}"), 403),
        (client.get(f"/open311/v2/requests.{fmt}", {"api_key": "wrong"}), 403),
        (client.post(f"/open311/v2/requests.{fmt}", {"api_key": key, "service_code": code}), 400),
        (
            client.post(
                f"/open311/v2/requests.{fmt}", {"api_key": key, "service_code": "x", "lat": "1", "long": "1"}
            ),
            400,
        ),
        (
            client.post(
                f"/open311/v2/requests.{fmt}",
                {"api_key": key, "service_code": code, "lat": "91", "long": "1", "description": "x"},
            ),
            400,
        ),
        (
            client.post(
                f"/open311/v2/requests.{fmt}",
                {"api_key": key, "service_code": code, "address_string": "路", "attribute[urgency]": "soon"},
            ),
            400,
        ),
        (client.get(f"/open311/v2/requests.{fmt}", {"api_key": key, "start_date": "yesterday"}), 400),
        (client.get(f"/open311/v2/requests.{fmt}", {"api_key": key, "status": "pending"}), 400),
        (client.get(f"/open311/v2/requests/H000.{fmt}", {"api_key": key}), 404),
        (client.get(f"/open311/v2/tokens/nothing.{fmt}", {"api_key": key}), 404),
        (client.get(f"/open311/v2/services/nothing.{fmt}"), 404),
    ]
    for response, status in cases:
        errors = check(response, fmt, "errors", status=status)
        assert errors[0]["code"] == status
    assert not WorkOrder.objects.exists()
    assert client.get("/open311/v2/services.yaml").status_code == 404


def test_a_client_reads_only_its_own_requests(key):
    other = open311.issue_key("other-app")
    client = Client()
    code = json.loads(client.get("/open311/v2/services.json").content)[0]["service_code"]
    posted = json.loads(
        client.post(
            "/open311/v2/requests.json",
            {"api_key": key, "service_code": code, "address_string": "建设路12号", "description": "路灯坏了"},
        ).content
    )
    number = posted[0]["service_request_id"]
    assert json.loads(client.get("/open311/v2/requests.json", {"api_key": other}).content) == []
    assert client.get(f"/open311/v2/requests/{number}.json", {"api_key": other}).status_code == 404
    assert client.get(f"/open311/v2/tokens/{posted[0]['token']}.json", {"api_key": other}).status_code == 404


def test_the_cli_issues_a_key_once_per_name():
    from typer.testing import CliRunner

    from tongban.cli.main import app

    runner = CliRunner()
    issued = runner.invoke(app, ["hotline", "open311-client", "city-app"])
    assert issued.exit_code == 0, issued.output
    key = issued.output.strip().splitlines()[-1]
    assert Client().get("/open311/v2/requests.json", {"api_key": key}).status_code == 200
    again = runner.invoke(app, ["hotline", "open311-client", "city-app"])
    assert again.exit_code == 2 and "exists" in again.output
