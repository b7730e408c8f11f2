"""The hotline pages: the operator records a call, the department and the centre take each step on
the order's page, the rates page shows the result; the citizen files on the portal."""

import re

import pytest
from django.test import Client

from tongban.hotline.models import OrderStatus, TrainingExample, WorkOrder

from .test_api_demo import logged_in

pytestmark = pytest.mark.django_db


def step(client, number, action, **fields):
    data = {"action": action, **{f"{action}-{k}": v for k, v in fields.items()}}
    return client.post(f"/hotline/orders/{number}/", data)


def test_a_call_from_the_console_to_the_rates(taxonomy):
    centre, _ = logged_in("operator")
    handler, _ = logged_in("handler_zj")
    page = centre.get("/hotline/console")
    assert page.status_code == 200 and "城乡建设/城市建设和市政管理/园林绿化环卫" in page.content.decode()
    # bad input comes back under its fields, nothing saved
    bad = centre.post(
        "/hotline/console", {"text": "x", "order_type": "complaint", "urgency": "normal", "phone": "12"}
    )
    assert bad.status_code == 200 and 'data-field="phone"' in bad.content.decode()
    assert 'data-field="requester_name"' in bad.content.decode()
    assert not WorkOrder.objects.exists()
    recorded = centre.post(
        "/hotline/console",
        {
            "phone": "13800001234",
            "requester_name": "赵六",
            "text": "小区垃圾三天没人清运",
            "order_type": "complaint",
            "urgency": "normal",
            "category": "城乡建设",
            "suggested_category": "教育文体",
            "suggestion_confidence": "0.4",
            "address": "建设路12号",
            "dispatch": "on",
        },
    )
    order = WorkOrder.objects.get()
    assert recorded.status_code == 302 and recorded["Location"] == f"/hotline/orders/{order.number}/"
    assert order.status == OrderStatus.DISPATCHED and order.department.code == "zjj"
    assert TrainingExample.objects.get().overridden
    earlier = centre.get("/hotline/console/earlier", {"phone": "138 0000 1234"})
    assert order.number in earlier.content.decode()

    listed = handler.get("/hotline/").content.decode()
    assert order.number in listed
    detail = handler.get(f"/hotline/orders/{order.number}/").content.decode()
    assert "赵*" in detail and "13800001234" not in detail and 'data-testid="action-accept"' in detail
    assert step(handler, order.number, "accept").status_code == 302
    assert step(handler, order.number, "contact").status_code == 302
    empty = step(handler, order.number, "reply", text="", outcome="solved")
    assert empty.status_code == 200 and 'data-field="text"' in empty.content.decode()
    assert step(handler, order.number, "reply", text="已清运", outcome="solved").status_code == 302
    # the department cannot review its own reply: the page does not offer it and the POST is refused
    assert step(handler, order.number, "review", accept="1").status_code == 403
    assert step(centre, order.number, "review", accept="1").status_code == 302
    assert (
        step(
            centre, order.number, "callback", contacted="1", solved="solved", satisfaction="satisfied"
        ).status_code
        == 302
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    rates = centre.get("/hotline/rates").content.decode()
    row = re.search(r'<tr data-department="zjj">(.*?)</tr>', rates, re.S).group(1)
    assert 'data-rate="response">100%' in row and 'data-rate="satisfaction">100%' in row
    assert centre.get(f"/hotline/orders/{order.number}/contact").content.decode().count("13800001234") == 1


def test_pages_refuse_who_may_not_see(taxonomy):
    centre, _ = logged_in("operator")
    centre.post(
        "/hotline/console",
        {
            "requester_name": "赵六",
            "text": "垃圾",
            "order_type": "complaint",
            "urgency": "normal",
            "category": "城乡建设",
        },
    )
    number = WorkOrder.objects.get().number
    other, _ = logged_in("handler_rs")
    assert other.get(f"/hotline/orders/{number}/").status_code == 404
    assert other.get("/hotline/console").status_code == 403
    clerk, _ = logged_in("clerk")
    assert clerk.get("/hotline/").status_code == 403
    assert Client().get("/hotline/").status_code == 302  # to the login page


def test_a_citizen_files_on_the_portal(citizen_client, taxonomy):
    client = citizen_client("zhangsan")
    assert client.get("/hotline/new").status_code == 200
    bad = client.post("/hotline/new", {"text": "", "order_type": "help"})
    assert bad.status_code == 200 and not WorkOrder.objects.exists()
    sent = client.post("/hotline/new", {"text": "路灯坏了", "order_type": "help", "address": "北辰街道"})
    order = WorkOrder.objects.get()
    assert sent.status_code == 302 and order.channel == "portal" and order.requester_name == "张三"
    mine = client.get("/hotline/mine").content.decode()
    assert order.number in mine
    page = client.get(f"/hotline/orders/{order.number}/").content.decode()
    assert "路灯坏了" in page and 'data-testid="history"' not in page
