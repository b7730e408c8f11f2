"""The exchange as accounts' real-name check (实名认证 L1): a verify-only call on the population
resource under the portal department's grant, logged like any call, revealing no value."""

import datetime as dt

from tests.exchange.conftest import LISI, WANGWU, ZHANGSAN
from tongban.core.authz import SYSTEM
from tongban.core.models import AuditEntry
from tongban.exchange import demo, services
from tongban.exchange.identity import check_real_name
from tongban.exchange.models import Call, CallOutcome


def _grant_portal():
    grant = services.request_grant(
        SYSTEM,
        consumer_code="ggb",
        resource_code="population",
        fields=["name", "status"],
        purpose="统一身份认证：实名核验",
        legal_basis="《网络安全法》第二十四条",
        valid_until=dt.date.today() + dt.timedelta(days=30),
    )
    services.decide(SYSTEM, grant.reference, approve=True)
    services.decide(SYSTEM, grant.reference, approve=True)


def test_the_register_answers_yes_or_no_and_every_call_is_logged(population):
    _grant_portal()
    yes = check_real_name(name="张三", id_number=ZHANGSAN)
    assert yes.matched is True and yes.reference.startswith("X")
    call = Call.objects.get(reference=yes.reference)
    assert (call.consumer.code, call.kind, call.predicate, call.outcome) == (
        "ggb",
        "verify",
        "real_name",
        CallOutcome.ANSWERED,
    )
    assert call.fields == ["name", "status"] and ZHANGSAN not in call.subject_masked
    assert check_real_name(name="李四", id_number=ZHANGSAN).matched is False  # another's name
    assert check_real_name(name="王五", id_number=WANGWU).matched is False  # recorded as deceased
    assert check_real_name(name="钱七", id_number="11010519491231002X").matched is False  # not held
    assert check_real_name(name="李四", id_number=LISI).matched is True
    assert Call.objects.filter(consumer__code="ggb").count() == 5
    # The name asked about is in neither the call log nor the journal.
    for entry in AuditEntry.objects.filter(action="exchange.call"):
        assert "张三" not in str(entry.detail) and ZHANGSAN not in str(entry.detail)


def test_without_the_portal_grant_there_is_no_answer_and_the_refusal_is_logged(population):
    answer = check_real_name(name="张三", id_number=ZHANGSAN)
    assert answer.matched is None and answer.reason.startswith("refused")
    assert Call.objects.get(consumer__code="ggb").outcome == CallOutcome.REFUSED


def test_the_demo_city_grants_the_portal_its_check():
    spec = next(r for r in demo.RESOURCES if r["code"] == "population")
    assert spec["predicates"]["real_name"]["params"] == ["name"]
    assert any(g[0] == "ggb" and g[1] == "population" and g[5] == "approved" for g in demo.GRANTS)


def test_the_demo_register_holds_someone_to_try_real_name_checks_with():
    import random

    from tongban.accounts.seed import demo_id_number

    name, region, born, seq = demo.REGISTRANT
    number = demo_id_number(region, born, seq)
    people = demo._persons(random.Random(20261122))
    row = next(r for r in demo._population_rows(random.Random(1), people) if r["公民身份号码"] == number)
    assert (row["姓名"], row["人员状态"]) == (name, "0")  # clean and alive: L1 succeeds for him
