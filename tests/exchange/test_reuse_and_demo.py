"""免提交 through shared data (the cases.reuse SHARED finder), the KPI inputs, and the demo load."""

import datetime as dt

import pytest

from tests.exchange.conftest import LISI, WANGWU, ZHANGSAN
from tongban.accounts.models import Department, Enterprise, Person
from tongban.cases import reuse
from tongban.core.authz import SYSTEM
from tongban.exchange import demo, services
from tongban.exchange.models import Call, CallOutcome, Grant, GrantStatus, NegativeEntry, Resource


def _holder(id_number, department, purpose="户口簿免提交"):
    return reuse.Holder(
        person=Person.objects.with_id_number(id_number).get(),
        department=Department.objects.get(code=department),
        purpose=purpose,
    )


def test_the_finder_is_registered_and_answers_under_the_department_grant(population, grant_for):
    grant_for("ybj", "population", ["status"])
    found = reuse.find(_holder(ZHANGSAN, "ybj"), data_query="population.household")
    assert found.source == reuse.SHARED and found.summary == "公安人口库：户籍登记已核验"
    call = Call.objects.get(reference=found.reference)
    assert (call.consumer.code, call.kind, call.predicate, call.purpose) == (
        "ybj",
        "verify",
        "registered",
        "户口簿免提交",
    )
    # 王五 is recorded as deceased: the predicate does not hold, the material stays to be provided.
    assert reuse.find(_holder(WANGWU, "ybj"), data_query="population.household") is None
    # A department without a grant gets nothing, and the refused call is on record.
    assert reuse.find(_holder(LISI, "mzj"), data_query="population.household") is None
    refused = Call.objects.filter(consumer__code="mzj").get()
    assert (refused.outcome, refused.reason) == (CallOutcome.REFUSED, "no_grant")
    assert reuse.find(_holder(LISI, "ybj"), data_query="education.degree") is None  # not a query we answer


def test_sharing_kpis_for_a_period(population, grant_for):
    grant_for("ybj", "population", ["status"])
    for subject in (ZHANGSAN, LISI, "11010519491231002X"):
        services.verify(
            SYSTEM, "population", "registered", subject=subject, purpose="x", department_code="ybj"
        )
    with pytest.raises(services.Refused):
        services.verify(SYSTEM, "population", "registered", subject=LISI, purpose="x", department_code="mzj")
    today = dt.date.today()
    kpis = services.sharing_kpis(today - dt.timedelta(days=1), today + dt.timedelta(days=1))
    assert (kpis.requests, kpis.answered) == (4, 2)
    assert kpis.share_rate == 0.5 and kpis.success_rate == 0.75
    assert (
        kpis.departments_providing == 1
        and kpis.departments == Department.objects.filter(kind="bureau").count()
    )
    assert kpis.mean_latency_ms > 0 and kpis.p95_latency_ms >= kpis.mean_latency_ms * 0.5
    assert services.sharing_kpis(today - dt.timedelta(days=9), today - dt.timedelta(days=8)).requests == 0
    assert services.sharing_kpis(today, today, consumer_code="mzj").requests == 1
    stats = {row["code"]: row for row in services.call_stats(SYSTEM, by="consumer")}
    assert stats["ybj"]["answered"] == 2 and stats["ybj"]["not_found"] == 1 and stats["mzj"]["refused"] == 1


def test_the_demo_loads_once_with_dirty_rows_and_answers_about_the_demo_people(db):
    made = demo.load_exchange()
    consumers = set(Department.objects.values_list("code", flat=True))
    expected = sum(1 for grant in demo.GRANTS if grant[0] in consumers)  # 残联 comes with the catalogue
    assert made["resources"] == 6 and made["records"] > 25_000 and made["grants"] == expected >= 14
    assert demo.load_exchange() == {"resources": 0, "records": 0, "grants": 0, "calls": 0}
    assert Resource.objects.get(code="population").record_count >= demo.PERSONS
    assert Resource.objects.get(code="enterprises").record_count == demo.ENTERPRISE_COUNT
    quality = services.quality_report(SYSTEM, "population")
    assert quality.bad_key > 100 and quality.duplicates > 0 and quality.missing > 0 and quality.stale > 0
    assert services.quality_report(SYSTEM, "enterprises").bad_key > 0
    assert Grant.objects.filter(status=GrantStatus.PENDING).count() == 1
    assert Grant.objects.filter(status=GrantStatus.PROVIDER_APPROVED).count() == 1
    assert NegativeEntry.objects.filter(resource__code="population", field="ethnicity").exists()
    assert Call.objects.filter(outcome=CallOutcome.REFUSED).exists()
    # The demo items' departments reuse shared data for the demo citizens.
    assert reuse.find(_holder(ZHANGSAN, "rsj"), data_query="population.household")
    marriage = reuse.find(_holder(ZHANGSAN, "zrzyj"), data_query="civil_affairs.marriage")
    assert marriage.summary == "民政婚姻库：婚姻状况为已婚"
    unemployed = reuse.find(_holder(LISI, "rsj"), data_query="social_insurance.employment_record")
    assert unemployed is not None
    enterprise = Enterprise.objects.get(name="广安区示例餐饮有限公司")
    found = reuse.find(
        reuse.Holder(person=None, enterprise=enterprise, department=Department.objects.get(code="xzspj")),
        data_query="tax.no_arrears",
    )
    assert found and found.summary == "税务征管库：无欠税已核验"
