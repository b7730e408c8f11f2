"""The work order API as the centre's and a department's tools use it, and the demo centre."""

import pytest
from django.conf import settings
from django.test import Client

from tongban.hotline import demo
from tongban.hotline.models import Category, OrderStatus, WorkOrder

from ..conftest import shared_data_dir, totp_for

pytestmark = pytest.mark.django_db


def logged_in(username: str) -> tuple[Client, dict]:
    client = Client()
    assert (
        client.post(
            "/accounts/login", {"username": username, "password": settings.TONGBAN_DEMO_PASSWORD}
        ).status_code
        == 302
    )
    assert client.post("/accounts/mfa/verify", {"otp_token": totp_for(username)}).status_code == 302
    return client, {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


def post(client, csrf, path, data=None):
    return client.post(path, data or {}, content_type="application/json", **csrf)


def test_an_order_through_the_api_from_call_to_callback(taxonomy):
    centre, c_csrf = logged_in("operator")
    handler, h_csrf = logged_in("handler_zj")
    bad = post(centre, c_csrf, "/api/v1/hotline/orders", {"channel": "phone", "text": "", "order_type": "x"})
    assert bad.status_code == 422
    assert {"text", "order_type", "requester_name"} <= set(bad.json()["error"]["fields"])
    assert set(bad.json()["error"]["message"]) == {"zh-Hans", "en"}
    created = post(
        centre,
        c_csrf,
        "/api/v1/hotline/orders",
        {
            "channel": "phone",
            "text": "小区垃圾没人清运",
            "order_type": "complaint",
            "requester_name": "赵六",
            "phone": "13800001234",
            "category": "城乡建设",
            "dispatch": True,
        },
    )
    assert created.status_code == 201, created.content
    order = created.json()
    number = order["number"]
    assert (
        order["phone"] == "138****1234" and order["status"] == "dispatched" and order["department"] == "zjj"
    )
    assert handler.get(f"/api/v1/hotline/orders/{number}").json()["requester"] == "赵*"
    assert post(handler, h_csrf, f"/api/v1/hotline/orders/{number}/accept").status_code == 200
    replied = post(
        handler, h_csrf, f"/api/v1/hotline/orders/{number}/reply", {"text": "已清运", "outcome": "solved"}
    )
    assert replied.json()["status"] == "replied"
    assert (
        post(centre, c_csrf, f"/api/v1/hotline/orders/{number}/review", {"accept": True}).status_code == 200
    )
    closed = post(
        centre,
        c_csrf,
        f"/api/v1/hotline/orders/{number}/callback",
        {"contacted": True, "solved": "solved", "satisfaction": "satisfied"},
    )
    assert closed.json()["status"] == "closed"
    history = centre.get(f"/api/v1/hotline/orders/{number}/events").json()
    assert [e["activity"] for e in history][-2:] == ["work_order.callback", "work_order.closed"]
    assert centre.get(f"/api/v1/hotline/orders/{number}/contact").json() == {"phone": "13800001234"}
    assert handler.get(f"/api/v1/hotline/orders/{number}/contact").status_code == 403  # no longer holds it
    listed = handler.get("/api/v1/hotline/orders").json()
    assert [o["number"] for o in listed["items"]] == [number]
    other, _ = logged_in("handler_rs")
    assert other.get(f"/api/v1/hotline/orders/{number}").status_code == 404
    assert other.get("/api/v1/hotline/orders").json()["items"] == []


def test_the_demo_centre_maps_categories_and_has_orders_in_every_state():
    report = demo.load_hotline()
    assert report["orders"] == len(demo.SAMPLES)
    assert Category.objects.get(path="城乡建设").department.code == "zjj"
    statuses = set(WorkOrder.objects.values_list("status", flat=True))
    assert statuses == {
        OrderStatus.REGISTERED,
        OrderStatus.DISPATCHED,
        OrderStatus.REPLIED,
        OrderStatus.CLOSED,
    }
    again = demo.load_hotline()
    assert again == {"categories": 0, "mapped": 0, "orders": 0}
    if shared_data_dir():
        assert Category.objects.count() > 517  # the leaves and their parents
        assert Category.objects.filter(level=3).count() >= 500
