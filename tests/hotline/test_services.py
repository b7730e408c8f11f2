"""The work order's life through the services: intake, dispatch, handling, review, callback, reopen."""

import datetime as dt

import pytest

from tongban.core import events
from tongban.core.calendar import get_calendar
from tongban.core.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, NotPermitted
from tongban.core.models import AuditEntry
from tongban.hotline import services
from tongban.hotline.models import (
    Assignment,
    AssignmentStatus,
    OrderStatus,
    TimeLimit,
    TrainingExample,
    WorkOrder,
)

from ..conftest import actor

pytestmark = pytest.mark.django_db


def call(operator, **overrides) -> WorkOrder:
    fields = dict(
        channel="phone",
        text="小区 门口 垃圾 三天 没人 清运，臭味很大。",
        order_type="complaint",
        urgency="normal",
        requester_name="赵六",
        phone="138 0000 1234",
        address="广安区建设路12号",
        category="城乡建设/城市建设和市政管理/园林绿化环卫",
    )
    fields.update(overrides)
    return services.create_order(operator, **fields)


def activities(order) -> list[str]:
    return [e.activity.removeprefix("work_order.") for e in events.history("work_order", order.number)]


def test_an_operator_records_a_call_with_the_contact_encrypted_and_masked(operator, taxonomy):
    order = call(operator, suggested_category="城乡建设", suggestion_confidence=0.93)
    assert order.number.startswith("H") and len(order.number) == 15
    assert order.status == OrderStatus.REGISTERED
    assert order.department.code == "zjj"  # the category map: nearest ancestor with a department
    assert order.contact_phone == "13800001234" and order.phone_masked == "138****1234"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT contact_phone, requester_name FROM hotline_workorder WHERE number = %s", [order.number]
        )
        raw_phone, raw_name = cursor.fetchone()
    assert "13800001234" not in raw_phone and "赵六" not in raw_name
    assert activities(order) == ["received", "routed"]
    example = TrainingExample.objects.get(order=order)
    assert (example.label, example.overridden) == ("城乡建设", False)
    assert order.suggestion_accepted is True
    entry = AuditEntry.objects.get(action="hotline.create_order")
    assert entry.object_ref == order.number and entry.outcome == "success"
    assert "13800001234" not in str(entry.detail)


def test_an_override_of_the_suggestion_is_kept_as_training_data(operator, taxonomy):
    order = call(operator, suggested_category="教育文体", suggestion_confidence=0.6)
    example = TrainingExample.objects.get(order=order)
    assert (example.label, example.suggested, example.overridden) == ("城乡建设", "教育文体", True)
    assert order.suggestion_accepted is False


def test_bad_input_is_reported_field_by_field_and_changes_nothing(operator, taxonomy):
    with pytest.raises(InvalidInput) as caught:
        call(
            operator,
            text=" ",
            order_type="rant",
            urgency="soon",
            requester_name="",
            phone="12",
            latitude="91",
            longitude="x",
            region_code="999999",
            category="不存在",
        )
    assert set(caught.value.fields) >= {
        "text",
        "order_type",
        "urgency",
        "requester_name",
        "phone",
        "latitude",
        "longitude",
        "region_code",
        "category",
    }
    assert not WorkOrder.objects.exists()
    assert AuditEntry.objects.filter(action="hotline.create_order", outcome="invalid").count() == 1


def test_time_limits_follow_urgency_in_working_days(operator, taxonomy):
    critical = call(operator, urgency="critical")
    normal = call(operator)
    assert critical.first_contact_due - critical.received_at == dt.timedelta(hours=2)
    assert normal.first_contact_due - normal.received_at == dt.timedelta(hours=24)
    calendar = get_calendar()
    assert critical.resolution_due == calendar.deadline(critical.received_at, 1)
    assert normal.resolution_due == calendar.deadline(normal.received_at, 7)
    TimeLimit.objects.create(
        urgency="normal", order_type="complaint", first_contact_hours=12, resolution_working_days=5
    )
    changed = call(operator)
    assert changed.resolution_due == calendar.deadline(changed.received_at, 5)
    assert changed.first_contact_due - changed.received_at == dt.timedelta(hours=12)


def test_the_whole_life_of_an_order(operator, handler_zj, taxonomy):
    order = call(operator)
    services.dispatch(operator, order.number, lead="zjj")
    # the handler sees it; another department's handler does not
    assert services.access_order(handler_zj, order.number)
    with pytest.raises(NotFound):
        services.access_order(actor("handler_rs"), order.number)
    services.accept(handler_zj, order.number)
    services.record_contact(handler_zj, order.number)
    with pytest.raises(Conflict):
        services.record_contact(handler_zj, order.number)
    services.reply(handler_zj, order.number, text="已安排环卫清运，并加密清运频次。", outcome="solved")
    # the centre sends it back once, then accepts it
    with pytest.raises(InvalidInput):
        services.review(operator, order.number, accept=False, reason="")
    services.review(operator, order.number, accept=False, reason="请附清运照片")
    assert WorkOrder.objects.get(pk=order.pk).status == OrderStatus.IN_PROGRESS
    services.reply(handler_zj, order.number, text="已清运，照片见附件。", outcome="solved")
    services.review(operator, order.number, accept=True)
    services.callback(operator, order.number, contacted=False)
    assert WorkOrder.objects.get(pk=order.pk).status == OrderStatus.REVIEWED
    services.callback(operator, order.number, contacted=True, solved="solved", satisfaction="satisfied")
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED and order.outcome == "solved"
    assert activities(order) == [
        "received",
        "routed",
        "dispatched",
        "accepted",
        "contacted",
        "replied",
        "sent_back",
        "replied",
        "review_accepted",
        "callback",
        "callback",
        "closed",
    ]
    closed = events.history("work_order", order.number)[-1]
    assert closed.detail == {"outcome": "solved", "within_limit": True}
    assert closed.department_code == "zjj"


def test_only_the_centre_dispatches_reviews_and_calls_back(operator, handler_zj, taxonomy):
    order = call(operator)
    with pytest.raises(NotFound):
        services.dispatch(handler_zj, order.number, lead="zjj")
    services.dispatch(operator, order.number, lead="zjj")
    with pytest.raises(NotPermitted):
        services.reply(operator, order.number, text="x", outcome="solved")
    with pytest.raises(NotPermitted):
        services.dispatch(handler_zj, order.number, lead="rsj")
    assert AuditEntry.objects.filter(action="hotline.dispatch", outcome="denied").count() == 2


def test_steps_out_of_order_are_refused(operator, handler_zj, taxonomy):
    order = call(operator)
    with pytest.raises(Conflict):
        services.review(operator, order.number, accept=True)
    services.dispatch(operator, order.number, lead="zjj")
    with pytest.raises(Conflict):  # not accepted yet
        services.reply(handler_zj, order.number, text="x", outcome="solved")
    with pytest.raises(Conflict):
        services.dispatch(operator, order.number, lead="zjj")


def test_a_return_is_arbitrated_and_the_history_kept(operator, handler_zj, handler_rs, taxonomy):
    order = call(operator)
    services.dispatch(operator, order.number, lead="zjj")
    with pytest.raises(InvalidInput):
        services.return_order(handler_zj, order.number, reason="")
    services.return_order(handler_zj, order.number, reason="属于人社局职责：欠薪问题")
    assert WorkOrder.objects.get(pk=order.pk).status == OrderStatus.RETURNED
    with pytest.raises(InvalidInput):
        services.arbitrate(operator, order.number, uphold=True, department="zjj")
    services.arbitrate(operator, order.number, uphold=True, department="rsj")
    order.refresh_from_db()
    assert order.status == OrderStatus.DISPATCHED and order.department.code == "rsj"
    services.accept(handler_rs, order.number)
    # and a rejected return goes back to the department that returned it
    services.return_order(handler_rs, order.number, reason="不是我们的")
    services.arbitrate(operator, order.number, uphold=False)
    order.refresh_from_db()
    assert order.department.code == "rsj"
    history = list(
        Assignment.objects.filter(order=order).values_list("department__code", "status", "arbitration")
    )
    assert history == [
        ("zjj", AssignmentStatus.RETURNED, "upheld"),
        ("rsj", AssignmentStatus.RETURNED, "rejected"),
        ("rsj", AssignmentStatus.DISPATCHED, ""),
    ]
    arbitrated = [
        e for e in events.history("work_order", order.number) if e.activity == "work_order.arbitrated"
    ]
    assert [e.detail["decision"] for e in arbitrated] == ["upheld", "rejected"]


def test_joint_dispatch_lead_and_co_handler(operator, handler_zj, handler_rs, taxonomy):
    order = call(operator)
    services.dispatch(operator, order.number, lead="zjj", co=["rsj"])
    services.accept(handler_rs, order.number)
    assert WorkOrder.objects.get(pk=order.pk).status == OrderStatus.DISPATCHED  # only the lead moves it
    services.accept(handler_zj, order.number)
    services.reply(handler_rs, order.number, text="协办意见：已核查用工情况。", outcome="partly_solved")
    assert WorkOrder.objects.get(pk=order.pk).status == OrderStatus.IN_PROGRESS
    services.reply(handler_zj, order.number, text="主办答复", outcome="solved")
    assert WorkOrder.objects.get(pk=order.pk).status == OrderStatus.REPLIED


def test_reopen_starts_a_new_round_for_the_same_department(operator, handler_zj, taxonomy):
    order = call(operator)
    services.dispatch(operator, order.number, lead="zjj")
    services.accept(handler_zj, order.number)
    services.reply(handler_zj, order.number, text="已处理", outcome="solved")
    services.review(operator, order.number, accept=True)
    services.callback(operator, order.number, contacted=True, solved="unsolved", satisfaction="dissatisfied")
    services.reopen(operator, order.number, reason="回访不满意：垃圾仍未清运")
    order.refresh_from_db()
    assert (order.status, order.reopen_count, order.outcome) == (OrderStatus.DISPATCHED, 1, "")
    reopened = [e for e in events.history("work_order", order.number) if e.activity == "work_order.reopened"]
    assert reopened[0].detail["lead"] == "zjj" and reopened[0].department_code == "zjj"
    assert Assignment.objects.filter(order=order, round=1, department__code="zjj").exists()


def test_a_consultation_is_answered_on_the_spot(operator, taxonomy):
    order = call(operator, order_type="consultation", category="")
    services.answer_on_spot(operator, order.number, reply_text="社保卡补办请到政务中心7号窗口。")
    order.refresh_from_db()
    assert order.status == OrderStatus.ANSWERED and order.closed_at is not None
    complaint = call(operator)
    with pytest.raises(InvalidInput):
        services.answer_on_spot(operator, complaint.number, reply_text="x")


def test_an_anonymous_requester_is_hidden_from_the_department(operator, handler_zj, taxonomy):
    order = call(operator, anonymous=True, dispatch=True)
    assert order.status == OrderStatus.DISPATCHED
    seen = services.access_order(handler_zj, order.number)
    assert services.requester_label(handler_zj, seen) == str(services.WITHHELD)
    assert services.requester_label(operator, seen) == "赵六"
    with pytest.raises(NotPermitted):
        services.reveal_contact(handler_zj, order.number)
    assert services.reveal_contact(operator, order.number) == "13800001234"
    assert AuditEntry.objects.filter(action="hotline.reveal_contact", object_ref=order.number).exists()


def test_a_citizen_files_on_the_portal_and_sees_only_their_own(taxonomy, operator):
    zhangsan = actor("zhangsan")
    order = services.create_order(
        zhangsan, channel="portal", text="路灯不亮", order_type="help", address="广安区北辰街道"
    )
    assert order.requester_name == "张三" and order.contact_phone == "13800000001"
    assert services.access_order(zhangsan, order.number)
    with pytest.raises(NotFound):
        services.access_order(actor("lisi"), order.number)
    with pytest.raises(NotPermitted):
        services.create_order(zhangsan, channel="phone", text="x", order_type="help", address="y")
    with pytest.raises(NotAuthenticated):
        services.orders(None)
    assert list(services.orders(zhangsan)) == [order]


def test_the_caller_s_earlier_orders_are_found_by_number(operator, taxonomy):
    first = call(operator)
    call(operator, phone="13900000000")
    assert [o.number for o in services.earlier_orders(operator, "138-0000-1234")] == [first.number]
    with pytest.raises(NotPermitted):
        services.earlier_orders(actor("handler_zj"), "13800001234")


def _closed(operator, handler, *, solved, satisfaction, contact=True):
    order = call(operator)
    services.dispatch(operator, order.number, lead="zjj")
    services.accept(handler, order.number)
    if contact:
        services.record_contact(handler, order.number)
    services.reply(handler, order.number, text="已处理", outcome="solved")
    services.review(operator, order.number, accept=True)
    services.callback(operator, order.number, contacted=True, solved=solved, satisfaction=satisfaction)
    return order


def test_the_three_rates_per_department(operator, handler_zj, taxonomy):
    start = services.now() - dt.timedelta(days=1)
    end = services.now() + dt.timedelta(days=2)
    assert services.rates(operator, start=start, end=end) == []
    _closed(operator, handler_zj, solved="solved", satisfaction="satisfied")
    _closed(operator, handler_zj, solved="partly", satisfaction="basically_satisfied")
    reopened = _closed(operator, handler_zj, solved="unsolved", satisfaction="dissatisfied", contact=False)
    services.reopen(operator, reopened.number, reason="不满意")
    (zjj,) = services.rates(operator, start=start, end=end)
    assert zjj.department_code == "zjj"
    assert (zjj.due, zjj.responded) == (3, 2)  # one order never contacted
    assert zjj.response_rate == round(2 / 3, 4)
    assert zjj.resolution_rate == round(1.5 / 3, 4)
    assert zjj.satisfaction_rate == round(2 / 3, 4)
    assert (zjj.closed, zjj.reopened) == (2, 1)  # the reopened order is no longer closed
    # a department sees its own figures only; others none
    assert [r.department_code for r in services.rates(handler_zj, start=start, end=end)] == ["zjj"]
    assert services.rates(actor("handler_rs"), start=start, end=end) == []
    with pytest.raises(NotPermitted):
        services.rates(actor("clerk"), start=start, end=end)
