"""The guide assistant (智能导办) on the real 广安区 catalogue: ranking, clarifying, declining, clicks."""

import csv
from pathlib import Path

import pytest

from tongban.catalog import services as catalog
from tongban.catalog.models import ServiceItem
from tongban.core.authz import SYSTEM
from tongban.core.errors import InvalidInput, NotAuthenticated, NotPermitted
from tongban.guide import index, services
from tongban.guide.models import Click
from tongban.hotline.models import Channel, OrderType, WorkOrder

from ..conftest import actor

QUESTIONS = Path(__file__).with_name("questions.csv")
FOOD = "511A0005200004-511602000000-000-115113016823646795-1-00"
FOOD_CLOSE = "511A0005200007-511602000000-000-115113016823646795-1-00"
HUKOU = "511F09014002-511602000000-000-11511300008778693M-1-00"
BIRTH_CERTIFICATE = "512023377001-511602000000-000-11511301008778490F-1-00"
COMPANY = "511A0064100070-511602000000-000-115113016823646795-1-00"
SOLE_TRADER = "511A0074300005-511602000000-000-115113016823646795-1-00"
PASSPORT_NAME = "普通护照签发"


def codes(question: str, n: int = 3) -> list[str]:
    return services.ask(question).codes[:n]


def test_the_question_set_is_labelled_with_real_catalogue_codes():
    rows = list(csv.DictReader(QUESTIONS.open(encoding="utf-8")))
    assert len(rows) >= 150
    assert {r["split"] for r in rows} == {"dev", "heldout", "fresh"}
    unanswerable = [r for r in rows if not r["expected_codes"]]
    assert len(unanswerable) >= 25
    known = set(ServiceItem.objects.filter(current__isnull=False).values_list("code", flat=True))
    labelled = {c for r in rows for c in r["expected_codes"].split("|") if c}
    assert labelled <= known, sorted(labelled - known)[:5]


def test_everyday_words_find_the_official_items():
    assert FOOD in codes("开个小饭馆要办什么证")
    assert codes("我想开一家餐厅需要什么许可", 1) == [FOOD]
    assert HUKOU in codes("孩子刚出生上户口怎么弄")
    assert codes("宝宝出生了要办出生证明", 1) == [BIRTH_CERTIFICATE]


def test_english_questions_are_searched_in_the_catalogue_language():
    assert codes("How do I register my newborn baby's hukou", 1) == [HUKOU]
    top = services.ask("apply for a passport")
    assert top.hits[0].name == PASSPORT_NAME


def test_the_lifecycle_stage_asked_for_picks_the_family_member():
    assert codes("食品经营许可证注销", 1) == [FOOD_CLOSE]
    assert codes("开饭店", 1) == [FOOD]  # no stage asked: the first application, not its 注销 or 延续


def test_an_ambiguous_question_asks_back_with_both_services_on_top():
    answer = services.ask("办营业执照")
    assert answer.outcome == services.Outcome.CLARIFY
    assert answer.clarification.code == "business_form"
    assert set(answer.codes[:2]) == {SOLE_TRADER, COMPANY}
    assert services.ask(services.refine("办营业执照", 1)).codes[0] == COMPANY
    assert services.ask(services.refine("办营业执照", 0)).codes[0] == SOLE_TRADER
    # a question that already says which needs no clarification
    assert services.ask("注册一家有限公司要什么手续").outcome == services.Outcome.ANSWERED


def test_questions_outside_the_catalogue_are_declined():
    for question in ("今天天气怎么样", "怎么减肥最快", "How is the weather today", "你好", "12345678"):
        answer = services.ask(question)
        assert answer.outcome == services.Outcome.DECLINED, question
        assert answer.codes == []


@pytest.mark.parametrize("bad", ["", "   ", "问" * 301, None])
def test_a_bad_question_is_a_field_error(bad):
    with pytest.raises(InvalidInput) as caught:
        services.ask(bad)
    assert "question" in caught.value.fields


def test_refine_refuses_an_option_that_does_not_exist():
    with pytest.raises(InvalidInput) as caught:
        services.refine("办营业执照", 7)
    assert "option" in caught.value.fields
    with pytest.raises(InvalidInput):
        services.refine("今天天气怎么样", 0)


def test_targets_on_the_question_set():
    rows = list(csv.DictReader(QUESTIONS.open(encoding="utf-8")))
    scores = services.evaluate(rows)
    overall = scores["all"]
    assert overall.n == len(rows)
    # the splits written before any tuning (heldout was looked at once; fresh after all tuning)
    for split in ("heldout", "dev"):
        s = scores[split]
        assert s.hit3 / s.answerable >= 0.90, s.line(split)
        assert s.hit1 / s.answerable >= 0.75, s.line(split)
    assert overall.declined_unanswerable / overall.unanswerable >= 0.75, overall.line()
    # fresh: written after the lexicon was done and never inspected question by question. It
    # measured hit@3 0.76, hit@1 0.66 — below the targets: everyday words the lexicon lacks. A floor
    # so it does not get worse unnoticed.
    fresh = scores["fresh"]
    assert fresh.hit3 / fresh.answerable >= 0.70, fresh.line("fresh")


def test_cards_say_what_who_where_materials_limit_and_fee():
    [card] = services.cards([FOOD])
    assert card.name.startswith("食品")
    assert card.department.endswith("行政审批局")
    assert card.materials and card.fee
    assert card.promised_limit_days is not None
    assert card.can_apply
    assert "窗口" in card.where
    assert services.cards(["NO-SUCH-CODE"]) == []


def test_the_index_is_rebuilt_when_the_catalogue_changes(fresh_index, monkeypatch):
    monkeypatch.setattr(index, "RECHECK_SECONDS", 0)
    before = index.current()
    assert index.current() is before  # nothing changed: the same snapshot
    catalog.create_item(
        SYSTEM,
        code="TEST-GUIDE-ALPACA",
        department_code="nyncj",
        name="羊驼养殖场备案",
        item_type="public_service",
    )
    catalog.publish_item(SYSTEM, "TEST-GUIDE-ALPACA")
    after = index.current()
    assert after is not before
    assert codes("羊驼养殖场怎么备案", 1) == ["TEST-GUIDE-ALPACA"]


def test_a_click_keeps_only_catalogue_words(fresh_index):
    click = services.record_click(
        None, question="我叫王小明，身份证511602199001011234，电话13800138000，想开饭店", code=FOOD
    )
    assert "王小明" not in click.terms
    assert not any(ch.isdigit() for ch in click.terms)
    assert "食品" in click.terms.split()
    assert click.item_code == FOOD


@pytest.mark.parametrize(
    "fields,bad",
    [
        ({"code": "NO-SUCH-CODE"}, "code"),
        ({"code": ""}, "code"),
        ({"position": "x"}, "position"),
        ({"position": 0}, "position"),
        ({"action": "delete"}, "action"),
        ({"question": ""}, "question"),
    ],
)
def test_a_bad_click_is_refused_field_by_field(fields, bad):
    payload = {"question": "开饭店", "code": FOOD, "position": 1, "action": "guide", **fields}
    with pytest.raises(InvalidInput) as caught:
        services.record_click(None, **payload)
    assert bad in caught.value.fields
    assert not Click.objects.exists()


def test_clicks_move_the_chosen_answer_up(fresh_index):
    # 修改 and 重置 tie on the words, so which comes first depends on the rest of the catalogue; the
    # one people choose (the runner-up, whichever it is) comes first once they have chosen it.
    question = "社保卡密码忘了"
    before = services.ask(question).hits
    assert {"修改" in h.name or "重置" in h.name for h in before[:2]} == {True}
    chosen = before[1]
    for _ in range(20):
        services.record_click(None, question="我的社保卡密码忘记了", code=chosen.code, position=2)
    index.refresh_clicks()
    after = services.ask(question)
    assert after.codes[0] == chosen.code
    assert before[0].code in after.codes[:3]
    # the clicks of one question do not carry an answer into an unrelated one
    assert chosen.code not in services.ask("开饭店").codes


def test_a_citizen_hands_a_question_to_a_person(db):
    zhangsan = actor("zhangsan")
    order = services.hand_off(zhangsan, question="我想问问老家的宅基地怎么确权")
    stored = WorkOrder.objects.get(number=order.number)
    assert stored.order_type == OrderType.CONSULTATION
    assert stored.channel == Channel.PORTAL
    assert "宅基地" in stored.text
    assert stored.requester_user_id == zhangsan.user.id


def test_only_a_citizen_hands_off(db):
    with pytest.raises(NotAuthenticated):
        services.hand_off(None, question="宅基地确权")
    with pytest.raises(NotPermitted):
        services.hand_off(actor("clerk"), question="宅基地确权")
    with pytest.raises(InvalidInput) as caught:
        services.hand_off(actor("zhangsan"), question=" ")
    assert "question" in caught.value.fields
