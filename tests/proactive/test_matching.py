"""Policy matching over the demo city's shared data: who qualifies and why, 免申即享 grants and
notices, a contest and its review, and who may see what."""

import pytest
from django.utils import translation

from tests.conftest import actor
from tongban.accounts.models import Notification
from tongban.core.errors import InvalidInput, NotFound, NotPermitted
from tongban.exchange import demo as exchange_demo
from tongban.exchange.models import Call
from tongban.proactive import demo, services
from tongban.proactive.models import Benefit, BenefitStatus, PolicyOutcome, SubjectMatch
from tongban.rules import compile_expression

RESTAURANT, BUILDER = demo.RESTAURANT, demo.BUILDER


@pytest.fixture
def city(db):
    exchange_demo.load_exchange()
    demo.load_policies()


def test_a_run_lists_who_qualifies_and_why_and_grants_without_application(city):
    officer = actor("data_officer")
    run = services.run_matching(officer, demo.DEPARTMENT)
    assert run.policies == 3 and run.subjects > 1900
    # the data came through the exchange: one logged batch call per resource, under xzspj's grants
    assert set(run.calls) == {"enterprises", "tax", "employment", "enterprise_finance"}
    calls = Call.objects.filter(reference__in=run.calls.values())
    assert calls.count() == 4
    assert {c.consumer.code for c in calls} == {demo.DEPARTMENT} and {c.subject_masked for c in calls} == {
        "*"
    }
    assert all(c.outcome == "answered" and c.grant is not None for c in calls)

    restaurant = SubjectMatch.objects.get(run=run, subject_key=RESTAURANT)
    assert restaurant.results["wengang-fanhuan"] == {"outcome": "qualified", "conditions": [True] * 5}
    assert restaurant.results["chuangye-tiexi"]["outcome"] == "qualified"
    assert "gaoxin-jiangli" not in restaurant.results  # no high-tech firm
    assert restaurant.values["employees"] == 28 and restaurant.values["tax_arrears"] is False
    builder = SubjectMatch.objects.get(run=run, subject_key=BUILDER)
    assert builder.results["gaoxin-jiangli"] == {"outcome": "qualified", "conditions": [True] * 4}
    assert "wengang-fanhuan" not in builder.results  # it owes tax

    wengang = PolicyOutcome.objects.get(run=run, policy__code="wengang-fanhuan")
    assert RESTAURANT in wengang.subjects and BUILDER not in wengang.subjects
    assert wengang.qualified + wengang.undetermined + wengang.not_qualified == run.subjects
    assert wengang.undetermined > 0  # some firms reported no layoff rate
    arrears = wengang.condition_counts[4]  # 无欠税: [true, false, unknown]
    assert sum(arrears) == run.subjects and arrears[1] > 50

    # Every stored outcome is what the rule language says, subject by subject (a sample).
    for match in SubjectMatch.objects.filter(run=run).order_by("subject_key")[:150]:
        for code, found in match.results.items():
            outcome = PolicyOutcome.objects.get(run=run, policy__code=code)
            verdicts = []
            for condition in outcome.conditions:
                value = compile_expression(condition["expression"]).evaluate(_typed(match.values))
                verdicts.append(value if isinstance(value, bool) else None)
            assert found["conditions"] == verdicts, (match.subject_key, code)

    # 免申即享: granted to every subject that fully qualifies for the automatic policies, no others
    granted = Benefit.objects.filter(run=run)
    assert run.granted == granted.count() > 0
    assert set(granted.filter(policy__code="wengang-fanhuan").values_list("subject_key", flat=True)) == set(
        wengang.subjects
    )
    assert not granted.filter(policy__code="chuangye-tiexi").exists()
    benefit = granted.get(policy__code="wengang-fanhuan", subject_key=RESTAURANT)
    assert [r["result"] for r in benefit.reasons] == [True] * 5 and benefit.reasons[4]["label"] == "无欠税"

    # notices to the people acting for the enterprises: 张三 (legal rep) and 李四 (agent) of the restaurant
    zhangsan = Notification.objects.filter(
        recipient__username="zhangsan", subject__in=["wengang-fanhuan", "chuangye-tiexi"]
    )
    assert zhangsan.count() == 2
    with translation.override("en"):  # message keys: read in the reader's language
        assert any(n.title_text.startswith("免申即享: ") and "granted" in n.title_text for n in zhangsan)
    assert Notification.objects.filter(recipient__username="lisi", subject="gaoxin-jiangli").count() == 1

    # the next run finds the same: nothing granted twice, nobody told twice
    again = services.run_matching(officer, demo.DEPARTMENT)
    assert again.granted == 0 and again.notified == 0
    assert Benefit.objects.filter(policy__code="wengang-fanhuan", subject_key=RESTAURANT).count() == 1


def _typed(values: dict) -> dict:
    from tongban.proactive import profile

    return {name: profile.typed(profile.ITEMS[name], value) for name, value in values.items()}


def test_an_enterprise_sees_its_own_matches_contests_a_grant_and_staff_review_it(city):
    services.run_matching(actor("data_officer"), demo.DEPARTMENT)
    zhangsan, lisi = actor("zhangsan"), actor("lisi")
    enterprise, matches, benefits = services.enterprise_matches(zhangsan, RESTAURANT)
    assert enterprise.uscc == RESTAURANT
    assert [m.policy.code for m in matches] == ["chuangye-tiexi", "wengang-fanhuan"] or {
        m.policy.code for m in matches
    } == {"chuangye-tiexi", "wengang-fanhuan"}
    wengang = next(m for m in matches if m.policy.code == "wengang-fanhuan")
    assert wengang.outcome == "qualified" and all(r.result is True for r in wengang.reasons)
    assert wengang.benefit is not None and wengang.benefit.status == BenefitStatus.GRANTED
    assert [b.policy.code for b in benefits] == ["wengang-fanhuan"]

    # only its own: 张三 does not act for the builder; staff do not get the enterprise's page
    with pytest.raises(NotFound):
        services.enterprise_matches(zhangsan, BUILDER)
    with pytest.raises(NotFound):
        services.enterprise_matches(actor("data_officer"), RESTAURANT)
    assert {m.policy.code for m in services.enterprise_matches(lisi, BUILDER)[1]} == {"gaoxin-jiangli"}
    builder_benefit = Benefit.objects.get(subject_key=BUILDER)
    with pytest.raises(NotFound):
        services.contest(zhangsan, builder_benefit.reference, reason="不是我们的")

    # a contest needs a reason, then goes to staff review
    with pytest.raises(InvalidInput) as bad:
        services.contest(zhangsan, wengang.benefit.reference, reason="  ")
    assert "reason" in bad.value.fields
    contested = services.contest(
        zhangsan, wengang.benefit.reference, reason="去年裁员数据有误，实际裁员率更高"
    )
    assert contested.status == BenefitStatus.CONTESTED
    assert [b.reference for b in services.contests(actor("data_officer"))] == [contested.reference]
    with pytest.raises(NotFound):  # a head of another bureau does not review xzspj's policies
        services.review(actor("section_head"), contested.reference, confirm=False, note="撤回")
    with pytest.raises(InvalidInput) as bad:
        services.review(actor("data_officer"), contested.reference, confirm=False, note="")
    assert "note" in bad.value.fields
    decided = services.review(actor("data_officer"), contested.reference, confirm=False, note="经核实撤回")
    assert decided.status == BenefitStatus.WITHDRAWN
    assert Notification.objects.filter(recipient__username="zhangsan", subject=contested.reference).exists()
    with pytest.raises(InvalidInput):
        services.contest(zhangsan, contested.reference, reason="再次申诉")


def test_a_policy_rule_is_checked_field_by_field_and_nothing_is_saved(db):
    from django.utils import translation

    from tongban.proactive.models import Policy

    spec = dict(demo.POLICIES[0], code="bad-rule")
    spec["conditions"] = [
        {"label": "语法错误", "expression": "employees <= "},
        {"label": "未知数据项", "expression": "headcount < 10"},
        {"label": "", "expression": "employees < 10"},
    ]
    with pytest.raises(InvalidInput) as bad:
        services.save_policy(actor("data_officer"), department_code=demo.DEPARTMENT, **spec)
    fields = bad.value.fields
    assert set(fields) == {"conditions.0.expression", "conditions.1.expression", "conditions.2.label"}
    with translation.override("en"):
        assert "headcount" in str(fields["conditions.1.expression"][0].message)
        assert "is not a data item" in str(fields["conditions.1.expression"][0].message)
        assert "position 13" in str(fields["conditions.0.expression"][0].message)
    with translation.override("zh-hans"):
        assert "不是数据项" in str(fields["conditions.1.expression"][0].message)
    assert not Policy.objects.filter(code="bad-rule").exists()
    # functions of the rule language are not data items: a date relative to today() is fine
    spec["conditions"] = [{"label": "成立三年内", "expression": 'registered_on >= today() - duration("P3Y")'}]
    saved = services.save_policy(actor("data_officer"), department_code=demo.DEPARTMENT, **spec)
    assert services.items_read(services.compile_conditions(saved.conditions)) == {"registered_on"}
    with pytest.raises(NotPermitted):  # a section head of 市监局 keeps no 行政审批局 policy
        spec["conditions"] = [{"label": "x", "expression": "employees < 10"}]
        services.save_policy(actor("section_head"), department_code=demo.DEPARTMENT, **spec)


def test_data_without_a_grant_is_refused_logged_and_leaves_everyone_undetermined(city):
    officer = actor("data_officer")
    services.save_policy(
        officer,
        code="rsj-test",
        name="测试政策",
        kind="subsidy",
        department_code="rsj-shbxk",
        benefit="测试",
        automatic=True,
        conditions=[
            {"label": "存续", "expression": 'status = "存续"'},  # 市场主体库: 人社局 holds no grant on it
            {"label": "小微", "expression": "employees <= 300"},  # its own resource: no grant needed
            {"label": "注册资本", "expression": "capital >= 10"},
        ],
    )
    run = services.run_matching(officer, "rsj-shbxk")
    assert run.calls["enterprises"] == "refused: no_grant"
    refused = Call.objects.get(consumer__code="rsj-shbxk", resource__code="enterprises")
    assert refused.outcome == "refused" and refused.reason == "no_grant" and refused.subject_masked == "*"
    outcome = PolicyOutcome.objects.get(run=run)
    assert outcome.qualified == 0
    # FEEL's one rule for missing values: = treats null as a value, so a missing status is not "存续"
    # (false); an ordering on a missing capital is unknown
    assert outcome.condition_counts[0] == [0, run.subjects, 0]
    assert outcome.condition_counts[2] == [0, 0, run.subjects]
    assert outcome.condition_counts[1][0] > 1000  # the employment data did come
    assert run.granted == 0 and not Benefit.objects.filter(policy__code="rsj-test").exists()
