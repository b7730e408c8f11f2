"""直接办结: a consultation the operator answers on the spot from the knowledge base (past official
replies, policy texts) is closed at once, names the entry it came from, and is counted apart from
the departments' rates."""

import datetime as dt

import pytest
from django.utils import timezone

from tongban.core import events
from tongban.core.errors import InvalidInput, NotPermitted
from tongban.hotline import duplicates, services
from tongban.hotline.models import Assignment, OrderStatus, WorkOrder

from ..conftest import actor
from .test_api_demo import logged_in

pytestmark = pytest.mark.django_db

QUESTION = "请问社保卡丢了怎么补办，需要带什么材料？"


@pytest.fixture
def knowledge(taxonomy, operator):
    duplicates.import_replies(
        operator,
        [
            {
                "ref": "R-1",
                "subject": "社保卡丢失补办",
                "text": "社保卡丢失了怎么补办",
                "reply": "请携带本人身份证到就近社保经办网点办理挂失补办，也可在“广安人社”小程序申请。",
            },
            {"ref": "R-2", "subject": "路灯不亮", "text": "小区路灯坏了", "reply": "已通知城管修复。"},
        ],
    )
    added = duplicates.import_policies(
        operator,
        [
            {
                "ref": "广人社发〔2024〕3号",
                "title": "社会保障卡补换领办理规定",
                "body": "社会保障卡遗失的，持卡人可持本人有效身份证件到服务网点申请补办，工本费免收。",
                "issuer": "广安市人力资源和社会保障局",
            },
            {"ref": "广人社发〔2024〕3号", "title": "重复", "body": "x"},
            {"ref": "", "title": "无编号", "body": "x"},
        ],
    )
    assert added == 1


def _period():
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    return {
        "start": dt.datetime.combine(today, dt.time.min, tzinfo=tz),
        "end": dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    }


def test_the_knowledge_base_offers_past_replies_and_policy_texts(knowledge, operator, handler_zj):
    hits = duplicates.knowledge_for(operator, QUESTION)
    keys = [h.key for h in hits]
    assert "reply:R-1" in keys and "policy:广人社发〔2024〕3号" in keys
    assert "reply:R-2" not in keys[:2]
    policy = next(h for h in hits if h.kind == "policy")
    assert policy.source == "广安市人力资源和社会保障局" and "补办" in policy.answer
    assert duplicates.knowledge_for(operator, "") == []
    with pytest.raises(NotPermitted):
        duplicates.knowledge_for(handler_zj, QUESTION)


def test_a_call_answered_on_the_spot_is_closed_at_once_and_counted_apart(knowledge, operator):
    order = services.answer_call(
        operator,
        text=QUESTION,
        order_type="consultation",
        requester_name="孙八",
        phone="13800005678",
        category="劳动和社会保障",
        reply_text="带身份证到社保网点补办，工本费免收。",
        knowledge_ref="policy:广人社发〔2024〕3号",
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.ANSWERED and order.closed_at and order.first_contacted_at
    assert order.knowledge_ref == "policy:广人社发〔2024〕3号"
    assert not Assignment.objects.filter(order=order).exists()  # never dispatched
    answered = [e for e in events.history("work_order", order.number) if e.activity == "work_order.answered"]
    assert answered[0].detail == {"knowledge": "policy:广人社发〔2024〕3号"}

    # another consultation goes to the department the usual way
    services.create_order(
        operator,
        channel="phone",
        text="养老保险转移接续怎么办",
        order_type="consultation",
        requester_name="周九",
        category="劳动和社会保障",
        dispatch=True,
    )
    figure = services.answered_on_spot(operator, **_period())
    assert (figure.answered, figure.consultations, figure.from_knowledge) == (1, 2, 1)
    assert figure.rate == 0.5
    # the department's rates do not count the order the centre answered itself
    # (answered at once, it would count as contacted in time; the dispatched one is not yet due)
    rows = {r.department_code: r for r in services.rates(operator, **_period())}
    assert "rsj" not in rows


def test_an_answer_on_the_spot_needs_a_consultation_an_answer_and_a_real_entry(knowledge, operator):
    base = dict(text=QUESTION, requester_name="孙八", category="劳动和社会保障")
    cases = [
        ({**base, "order_type": "complaint", "reply_text": "x"}, "order_type"),
        ({**base, "order_type": "consultation", "reply_text": "  "}, "reply_text"),
        (
            {**base, "order_type": "consultation", "reply_text": "x", "knowledge_ref": "policy:没有"},
            "knowledge_ref",
        ),
        (
            {**base, "order_type": "consultation", "reply_text": "x", "knowledge_ref": "wiki:R-1"},
            "knowledge_ref",
        ),
        ({**base, "order_type": "consultation", "reply_text": "x", "requester_name": ""}, "requester_name"),
    ]
    for fields, field in cases:
        with pytest.raises(InvalidInput) as exc:
            services.answer_call(operator, **fields)
        assert field in exc.value.fields, (field, exc.value.fields)
    assert WorkOrder.objects.count() == 0  # nothing half-done: no order without its answer
    with pytest.raises(NotPermitted):
        services.answer_call(actor("handler_zj"), order_type="consultation", reply_text="x", **base)


def test_a_registered_consultation_is_answered_from_its_page_with_the_entry_named(knowledge, operator):
    order = services.create_order(
        operator, channel="phone", text=QUESTION, order_type="consultation", requester_name="孙八"
    )
    centre, _ = logged_in("operator")
    page = centre.get(f"/hotline/orders/{order.number}/").content.decode()
    assert 'data-knowledge="reply:R-1"' in page and 'data-testid="use-knowledge"' in page
    assert "data-answer-form" in page
    bad = centre.post(
        f"/hotline/orders/{order.number}/",
        {"action": "answer", "answer-reply_text": "x", "answer-knowledge_ref": "reply:nope"},
    )
    assert bad.status_code == 200 and WorkOrder.objects.get(pk=order.pk).status == OrderStatus.REGISTERED
    done = centre.post(
        f"/hotline/orders/{order.number}/",
        {"action": "answer", "answer-reply_text": "到网点补办。", "answer-knowledge_ref": "reply:R-1"},
    )
    assert done.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.ANSWERED and order.knowledge_ref == "reply:R-1"
    assert 'data-testid="knowledge-ref"' in centre.get(f"/hotline/orders/{order.number}/").content.decode()


def test_the_console_answers_a_call_on_the_spot(knowledge):
    centre, csrf = logged_in("operator")
    hits = centre.post("/hotline/console/knowledge", {"text": QUESTION}, **csrf).content.decode()
    assert 'data-testid="knowledge-hits"' in hits and "policy:广人社发〔2024〕3号" in hits
    form = {
        "phone": "13800005678",
        "requester_name": "孙八",
        "text": QUESTION,
        "order_type": "consultation",
        "urgency": "normal",
        "reply_text": "带身份证到社保网点补办。",
        "knowledge_ref": "reply:R-1",
        "action": "answer",
    }
    response = centre.post("/hotline/console", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    order = WorkOrder.objects.get()
    assert order.status == OrderStatus.ANSWERED and order.knowledge_ref == "reply:R-1"
    # a complaint cannot be "answered": the form says why and nothing is recorded
    refused = centre.post("/hotline/console", {**form, "order_type": "complaint", "phone": "13800009999"})
    assert refused.status_code == 200 and WorkOrder.objects.count() == 1
    assert "field-error" in refused.content.decode()


def test_the_api_answers_a_call_and_searches_the_knowledge_base(knowledge):
    centre, csrf = logged_in("operator")
    found = centre.get("/api/v1/hotline/knowledge", {"text": QUESTION}).json()
    assert found[0]["key"] in ("reply:R-1", "policy:广人社发〔2024〕3号")
    created = centre.post(
        "/api/v1/hotline/answered-calls",
        {
            "channel": "phone",
            "text": QUESTION,
            "order_type": "consultation",
            "requester_name": "孙八",
            "reply_text": "到网点补办。",
            "knowledge_ref": found[0]["key"],
        },
        "application/json",
        **csrf,
    )
    assert created.status_code == 201 and created.json()["status"] == "answered"
    handler, _csrf = logged_in("handler_zj")
    assert handler.get("/api/v1/hotline/knowledge", {"text": QUESTION}).status_code == 403


def test_the_cli_imports_policy_texts(tmp_path):
    from typer.testing import CliRunner

    from tongban.cli.main import app
    from tongban.hotline.models import PolicyText

    path = tmp_path / "policies.csv"
    path.write_text(
        "文号,标题,正文,发文机关,发布日期\n"
        "广医保发〔2024〕1号,门诊慢特病认定,申请门诊慢特病待遇的，可在定点医院提交病历。,广安市医疗保障局,2024-03-01\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["hotline", "import-policies", str(path)])
    assert result.exit_code == 0, result.output
    policy = PolicyText.objects.get(ref="广医保发〔2024〕1号")
    assert policy.issued_on == dt.date(2024, 3, 1) and policy.issuer == "广安市医疗保障局"
    bad = tmp_path / "bad.csv"
    bad.write_text("title,body\nx,y\n", encoding="utf-8")
    assert CliRunner().invoke(app, ["hotline", "import-policies", str(bad)]).exit_code == 2
