"""Data sharing: grants (two approvals, expiry, negative list, fields), verify-only answers that
reveal nothing, every call logged, and provider records held encrypted and found by blind index."""

import datetime as dt

import pytest
from django.db import connection

from tests.conftest import actor
from tests.exchange.conftest import LISI, WANGWU, ZHANGSAN
from tongban.core.authz import SYSTEM
from tongban.core.errors import InvalidInput, NotFound, NotPermitted
from tongban.core.models import AuditEntry
from tongban.exchange import services
from tongban.exchange.demo import _fullwidth
from tongban.exchange.models import Call, CallOutcome, Grant, GrantStatus, Record, Resource


def _wrong_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def _refusal(exc_info) -> tuple[str, str]:
    (name, problems), *_rest = exc_info.value.fields.items()
    return name, problems[0].code


def test_verify_only_answers_the_predicate_and_reveals_nothing(population, grant_for):
    grant_for("rsj", "population", ["status", "region"])
    reviewer = actor("reviewer_rs")  # works in rsj-shbxk; the grant is the bureau's
    yes = services.verify(
        reviewer,
        "population",
        "alive_in_district",
        subject=ZHANGSAN.lower(),
        params={"district": "511602"},
        purpose="失业登记核验",
    )
    assert yes.found and yes.answer is True and yes.record == {}
    elsewhere = services.verify(
        reviewer,
        "population",
        "alive_in_district",
        subject=ZHANGSAN,
        params={"district": "511621"},
        purpose="失业登记核验",
    )
    assert elsewhere.answer is False
    deceased = services.verify(reviewer, "population", "registered", subject=WANGWU, purpose="核验")
    assert deceased.found and deceased.answer is False
    unknown = services.verify(
        reviewer, "population", "registered", subject="11010519491231002X", purpose="核验"
    )
    assert not unknown.found and unknown.answer is None
    outcomes = list(Call.objects.order_by("at").values_list("outcome", "result_size", "consumer__code"))
    assert outcomes == [
        ("answered", 1, "rsj-shbxk"),
        ("answered", 1, "rsj-shbxk"),
        ("answered", 1, "rsj-shbxk"),
        ("not_found", 0, "rsj-shbxk"),
    ]
    entry = AuditEntry.objects.filter(action="exchange.call").order_by("-id").first()
    assert entry.detail["predicate"] == "registered" and entry.detail["fields"] == ["status"]
    assert entry.detail["purpose"] == "核验" and "latency_ms" in entry.detail
    assert "11010519491231002X" not in str(entry.detail)  # the subject is journalled masked only
    assert AuditEntry.objects.filter(action="exchange.call").count() == 4


def test_a_full_query_returns_only_the_granted_fields(population, grant_for):
    grant_for("rsj", "population", ["status", "region", "name"])
    answer = services.query(
        actor("reviewer_rs"), "population", subject=ZHANGSAN, fields=["name", "status"], purpose="经办"
    )
    assert answer.record == {"name": "张三", "status": "正常"}
    with pytest.raises(services.Refused) as refused:
        services.query(
            actor("reviewer_rs"), "population", subject=ZHANGSAN, fields=["name", "address"], purpose="经办"
        )
    assert _refusal(refused) == ("fields.address", "outside_grant")
    assert refused.value.status == 403
    messages = refused.value.as_dict()["fields"]["fields.address"][0]["message"]
    assert set(messages) == {"zh-Hans", "en"} and "outside" in messages["en"]
    last = Call.objects.order_by("-at").first()
    assert (last.outcome, last.reason, last.fields) == ("refused", "outside_grant", ["name", "address"])


def test_calls_without_an_approved_current_grant_are_refused_and_logged(population):
    def call():
        return services.verify(actor("reviewer_rs"), "population", "registered", subject=LISI, purpose="核验")

    with pytest.raises(services.Refused) as refused:
        call()
    assert _refusal(refused) == ("resource", "no_grant")
    grant = services.request_grant(
        actor("data_officer"),
        consumer_code="rsj",
        resource_code="population",
        fields=["status"],
        purpose="社保经办",
        legal_basis="《社会保险法》",
        valid_until=dt.date.today() + dt.timedelta(days=30),
    )
    with pytest.raises(services.Refused) as refused:
        call()
    assert _refusal(refused) == ("resource", "not_approved")
    services.decide(actor("data_officer"), grant.reference, approve=True)  # as the provider (gaj)
    assert Grant.objects.get(pk=grant.pk).status == GrantStatus.PROVIDER_APPROVED
    with pytest.raises(services.Refused):
        call()
    services.decide(actor("data_officer"), grant.reference, approve=True)  # as the data authority
    assert call().answer is True
    Grant.objects.filter(pk=grant.pk).update(valid_until=dt.date.today() - dt.timedelta(days=1))
    with pytest.raises(services.Refused) as refused:
        call()
    assert _refusal(refused) == ("resource", "expired")
    reasons = list(Call.objects.order_by("at").values_list("reason", flat=True))
    assert reasons == ["no_grant", "not_approved", "not_approved", "", "expired"]
    denied = AuditEntry.objects.filter(action="exchange.call", outcome="denied").count()
    assert denied == 4


def test_the_negative_list_beats_any_grant(population, grant_for):
    grant = grant_for("rsj", "population", ["status", "ethnicity"])
    services.add_negative(
        actor("data_officer"), resource_code="population", field_key="ethnicity", reason="敏感"
    )
    with pytest.raises(services.Refused) as refused:
        services.query(actor("reviewer_rs"), "population", subject=LISI, fields=["ethnicity"], purpose="x")
    assert _refusal(refused) == ("fields.ethnicity", "negative_list")
    with pytest.raises(InvalidInput) as invalid:
        services.request_grant(
            actor("data_officer"),
            consumer_code="rsj",
            resource_code="population",
            fields=["ethnicity", "nonsense"],
            purpose="统计",
            legal_basis="无",
            valid_until=dt.date.today() + dt.timedelta(days=30),
        )
    assert set(invalid.value.fields) == {"fields.ethnicity", "fields.nonsense"}
    assert services.query(
        actor("reviewer_rs"), "population", subject=LISI, fields=["status"], purpose="x"
    ).record == {"status": "正常"}
    assert grant.status == GrantStatus.APPROVED
    with pytest.raises(NotPermitted):
        services.add_negative(actor("reviewer_rs"), resource_code="population", field_key="name", reason="x")


def test_only_the_provider_then_the_authority_decide_and_others_do_not_see_the_grant(population):
    grant = services.request_grant(
        actor("bureau_head"),  # 市场监管局
        consumer_code="scjgj",
        resource_code="population",
        fields=["status"],
        purpose="登记核验",
        legal_basis="《市场主体登记管理条例》",
        valid_until=dt.date.today() + dt.timedelta(days=90),
    )
    with pytest.raises(NotFound):
        services.get_grant(actor("reviewer_rs"), grant.reference)  # another department: does not exist
    with pytest.raises(NotPermitted):
        services.decide(actor("bureau_head"), grant.reference, approve=True)  # not the provider
    with pytest.raises(InvalidInput) as invalid:
        services.decide(actor("data_officer"), grant.reference, approve=False)
    assert "note" in invalid.value.fields
    rejected = services.decide(actor("data_officer"), grant.reference, approve=False, note="不符合最小必要")
    assert rejected.status == GrantStatus.REJECTED
    visible = services.grants(actor("bureau_head"))
    assert list(visible) == [rejected]
    assert not services.grants(actor("reviewer_rs")).exists()
    with pytest.raises(InvalidInput):
        services.request_grant(
            actor("bureau_head"),
            consumer_code="scjgj",
            resource_code="population",
            fields=["status"],
            purpose="x",
            legal_basis="y",
            valid_until=dt.date.today(),
        )
    with pytest.raises(NotPermitted):
        services.request_grant(
            actor("bureau_head"),
            consumer_code="rsj",  # not their department
            resource_code="population",
            fields=["status"],
            purpose="x",
            legal_basis="y",
            valid_until=dt.date.today() + dt.timedelta(days=3),
        )


def test_records_are_encrypted_at_rest_and_found_by_one_indexed_lookup(population):
    with connection.cursor() as cursor:
        cursor.execute("SELECT data, key_index FROM exchange_record")
        rows = cursor.fetchall()
    assert len(rows) == 3
    assert all("张三" not in data and ZHANGSAN not in data and ZHANGSAN not in key for data, key in rows)
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN QUERY PLAN SELECT data FROM exchange_record WHERE resource_id = 1 AND key_index = 'x'"
            if connection.vendor == "sqlite"
            else "SELECT 1"
        )
        plan = " ".join(str(r) for r in cursor.fetchall())
    if connection.vendor == "sqlite":
        assert "exchange_record_lookup" in plan


def test_unknown_subjects_predicates_and_missing_purpose_are_refused_per_field(population, grant_for):
    grant_for("rsj", "population", ["status", "region"])
    reviewer = actor("reviewer_rs")
    cases = [
        (dict(subject=_wrong_check(ZHANGSAN), purpose="x"), "registered", ("subject", "invalid_subject")),
        (dict(subject=ZHANGSAN, purpose=""), "registered", ("purpose", "no_purpose")),
        (dict(subject=ZHANGSAN, purpose="x"), "nonsense", ("predicate", "unknown_predicate")),
        (dict(subject=ZHANGSAN, purpose="x"), "alive_in_district", ("params.district", "missing_param")),
    ]
    for kwargs, predicate, expected in cases:
        with pytest.raises(services.Refused) as refused:
            services.verify(reviewer, "population", predicate, **kwargs)
        assert _refusal(refused) == expected
    assert Call.objects.filter(outcome=CallOutcome.REFUSED).count() == 4
    with pytest.raises(NotPermitted):  # no exchange.query for that department: not a call at all
        services.verify(
            reviewer, "population", "registered", subject=ZHANGSAN, purpose="x", department_code="gaj"
        )


def test_a_provider_reads_its_own_resource_without_a_grant(population):
    answer = services.query(
        SYSTEM, "population", subject=LISI, fields=["name"], purpose="户政", department_code="gaj-hzk"
    )
    assert answer.record == {"name": "李四"}
    assert Call.objects.get().grant is None


def test_import_quality_report_and_dirty_rows(db):
    from tests.exchange.conftest import population_row, spec

    services.save_resource(SYSTEM, **spec("population"))
    bad = _wrong_check(ZHANGSAN)
    legacy = "511602850312013"  # the 15-digit form of 张三's number
    report = services.import_rows(
        SYSTEM,
        "population",
        [
            population_row(legacy, "张三"),
            population_row(_fullwidth(LISI), "李四"),
            population_row(bad, "错号"),
            population_row(WANGWU, ""),  # name missing
            population_row(WANGWU, "王五", updated="2010/1/1"),  # a duplicate, and stale
        ],
    )
    assert (report.rows, report.imported, report.dirty) == (5, 5, 3)
    quality = services.quality_report(actor("data_officer"), "population", today=dt.date(2026, 11, 22))
    assert (quality.total, quality.bad_key, quality.duplicates, quality.missing, quality.stale) == (
        5,
        1,
        2,
        1,
        1,
    )
    assert quality.dirty == 3
    rows = list(services.dirty_rows(actor("data_officer"), "population"))
    assert [r.row_number for r in rows] == [3, 4, 5]
    assert (
        rows[0].key_problem == "checksum"
        and rows[0].key_masked.startswith("511602")
        and "*" in rows[0].key_masked
    )
    assert [
        r.row_number
        for r in services.dirty_rows(
            actor("data_officer"), "population", problem="stale", today=dt.date(2026, 11, 22)
        )
    ] == [5]
    # Normalised on the way in: the legacy and full-width numbers are found by their 18-digit form.
    assert services.query(
        SYSTEM, "population", subject=ZHANGSAN, fields=["name"], purpose="x", department_code="gaj"
    ).record == {"name": "张三"}
    assert services.query(
        SYSTEM, "population", subject=LISI, fields=["birth_date"], purpose="x", department_code="gaj"
    ).record == {"birth_date": "1985-03-12"}
    with pytest.raises(NotFound):  # a consumer never sees the provider's records, not even their quality
        services.quality_report(actor("reviewer_rs"), "population")


def test_a_malformed_file_imports_nothing_and_reports_every_row(population):
    from tests.exchange.conftest import population_row

    before = set(Record.objects.values_list("id", flat=True))
    with pytest.raises(services.ImportRejected) as rejected:
        services.import_rows(
            SYSTEM,
            "population",
            [
                population_row(ZHANGSAN, "张三"),
                population_row(LISI, "李四", 出生日期="1990-13-45"),
                population_row(WANGWU, "王五", 人员状态="9"),
                population_row("", "无号"),
            ],
        )
    errors = [(row, field) for row, field, _message in rejected.value.report.errors]
    assert errors == [(2, "birth_date"), (3, "status"), (4, "id_number")]
    assert set(rejected.value.fields) == {"row 2.birth_date", "row 3.status", "row 4.id_number"}
    assert set(Record.objects.values_list("id", flat=True)) == before
    entry = AuditEntry.objects.filter(action="exchange.resource.import").order_by("-id").first()
    assert entry.outcome == "invalid"


def test_a_revoked_grant_stops_calls_and_an_outsider_attempt_is_journalled(population, grant_for):
    grant = grant_for("rsj", "population", ["status"])
    with pytest.raises(NotFound):  # a section's reviewer does not see the bureau's grants
        services.revoke_grant(actor("reviewer_rs"), grant.reference, reason="x")
    services.revoke_grant(actor("data_officer"), grant.reference, reason="用途已结束")
    with pytest.raises(services.Refused) as refused:
        services.verify(actor("reviewer_rs"), "population", "registered", subject=LISI, purpose="核验")
    assert _refusal(refused) == ("resource", "revoked")
    with pytest.raises(InvalidInput):
        services.revoke_grant(actor("data_officer"), grant.reference, reason="again")
    before = Call.objects.count()
    with pytest.raises(NotPermitted):
        services.verify(
            actor("reviewer"), "population", "registered", subject=LISI, purpose="x", department_code="rsj"
        )
    assert Call.objects.count() == before
    entry = AuditEntry.objects.filter(action="exchange.call").order_by("-id").first()
    assert (entry.outcome, entry.actor_label, entry.department_code) == ("denied", "reviewer", "rsj")


def test_policy_changes_apply_to_the_very_next_call_despite_the_cache(population, grant_for):
    """The call path caches resources and the negative list per policy version: adding to the list,
    removing from it, or deactivating the resource (also by a plain model save, as the admin site
    does) applies to the next call in this process."""
    grant_for("rsj", "population", ["status", "ethnicity"])
    reviewer = actor("reviewer_rs")
    assert services.query(reviewer, "population", subject=LISI, fields=["ethnicity"], purpose="x").found
    officer = actor("data_officer")
    services.add_negative(officer, resource_code="population", field_key="ethnicity", reason="敏感")
    with pytest.raises(services.Refused) as refused:
        services.query(reviewer, "population", subject=LISI, fields=["ethnicity"], purpose="x")
    assert _refusal(refused) == ("fields.ethnicity", "negative_list")
    services.remove_negative(officer, resource_code="population", field_key="ethnicity")
    assert services.query(reviewer, "population", subject=LISI, fields=["ethnicity"], purpose="x").found
    resource = Resource.objects.get(code="population")
    resource.is_active = False
    resource.save()
    with pytest.raises(services.Refused) as refused:
        services.query(reviewer, "population", subject=LISI, fields=["status"], purpose="x")
    assert _refusal(refused) == ("resource", "unknown_resource")
