"""The exchange over HTTP: bearer-token systems query and verify under their department's grants, with
refusals in the common error shape; the console pages show the catalogue, quality, grants and calls."""

import datetime as dt

import pytest
from django.test import Client

from tests.exchange.conftest import LISI, ZHANGSAN, population_row
from tongban.accounts import services as accounts
from tongban.core.authz import SYSTEM
from tongban.exchange import services
from tongban.exchange.models import Call, Grant, GrantStatus


@pytest.fixture
def rs_system(db):
    """The 人社 business system: a system account of rsj with a bearer token."""
    accounts.create_staff(
        SYSTEM,
        username="sys-rsj",
        display_name="人社业务系统",
        department_code="rsj",
        kind="system",
        roles=[("reviewer", True)],
    )
    raw, _token = accounts.create_api_token(SYSTEM, username="sys-rsj", name="exchange", days=30)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _post(client, path, data, headers):
    return client.post(path, data, content_type="application/json", **headers)


def test_a_system_verifies_and_queries_over_the_api(client, population, grant_for, rs_system):
    grant_for("rsj", "population", ["status", "region", "name"])
    response = _post(
        client,
        "/api/v1/exchange/verify",
        {
            "resource": "population",
            "predicate": "alive_in_district",
            "subject": ZHANGSAN,
            "params": {"district": "511602"},
            "purpose": "养老待遇资格认证",
        },
        rs_system,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["answer"] is True and body["found"] is True and body["record"] == {}
    assert Call.objects.get(reference=body["reference"]).actor_label == "sys-rsj"
    response = _post(
        client,
        "/api/v1/exchange/query",
        {"resource": "population", "subject": LISI, "fields": ["name", "status"], "purpose": "经办"},
        rs_system,
    )
    assert response.json()["record"] == {"name": "李四", "status": "正常"}
    refused = _post(
        client,
        "/api/v1/exchange/query",
        {"resource": "population", "subject": LISI, "fields": ["address"], "purpose": "经办"},
        rs_system,
    )
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "refused"
    problem = error["fields"]["fields.address"][0]
    assert problem["code"] == "outside_grant" and set(problem["message"]) == {"zh-Hans", "en"}
    stats = client.get("/api/v1/exchange/calls/stats", **rs_system).json()
    assert stats[0]["code"] == "rsj" and (stats[0]["total"], stats[0]["refused"]) == (3, 1)


def test_grants_over_the_api(population, rs_system, staff_client):
    client = Client()  # the system's own client; staff_client logs the officer into another
    response = _post(
        client,
        "/api/v1/exchange/grants",
        {
            "consumer": "rsj",
            "resource": "population",
            "fields": ["status"],
            "purpose": "社保经办",
            "legal_basis": "《社会保险法》",
            "valid_until": str(dt.date.today() - dt.timedelta(days=1)),
        },
        rs_system,
    )
    # A reviewer role does not carry exchange.request.
    assert response.status_code == 403
    officer = staff_client("data_officer")
    response = officer.post(
        "/api/v1/exchange/grants",
        {
            "consumer": "rsj",
            "resource": "population",
            "fields": ["status", "ethnicity", "nope"],
            "purpose": "社保经办",
            "legal_basis": "《社会保险法》",
            "valid_until": str(dt.date.today() + dt.timedelta(days=100)),
        },
        content_type="application/json",
        HTTP_X_CSRFTOKEN=officer.cookies["csrftoken"].value,
    )
    assert response.status_code == 422 and "fields.nope" in response.json()["error"]["fields"]
    grant = services.request_grant(
        SYSTEM,
        consumer_code="rsj",
        resource_code="population",
        fields=["status"],
        purpose="社保经办",
        legal_basis="《社会保险法》",
        valid_until=dt.date.today() + dt.timedelta(days=100),
    )
    listed = client.get("/api/v1/exchange/grants", **rs_system).json()
    assert [g["reference"] for g in listed["items"]] == [grant.reference]
    for expected in ("provider_approved", "approved"):
        response = officer.post(
            f"/api/v1/exchange/grants/{grant.reference}/decision",
            {"approve": True},
            content_type="application/json",
            HTTP_X_CSRFTOKEN=officer.cookies["csrftoken"].value,
        )
        assert response.json()["status"] == expected
    catalogue = client.get("/api/v1/exchange/resources", **rs_system).json()
    population = next(r for r in catalogue if r["code"] == "population")
    assert {f["level"] for f in population["fields"]} >= {"sensitive", "internal", "public"}
    assert client.get("/api/v1/exchange/resources/population/quality", **rs_system).status_code == 404
    assert client.get("/api/v1/exchange/kpis?start=2026-01-01&end=2026-12-31", **rs_system).status_code == 403
    kpis = officer.get("/api/v1/exchange/kpis?start=2026-01-01&end=2026-12-31").json()
    assert kpis["departments_providing"] == 1


def test_the_console_pages(population, staff_client):
    services.import_rows(
        SYSTEM,
        "population",
        [
            population_row(ZHANGSAN, "张三"),
            population_row(ZHANGSAN[:17] + "0", "错号"),
            population_row(LISI, ""),
        ],
    )
    grant = services.request_grant(
        SYSTEM,
        consumer_code="wjj",
        resource_code="population",
        fields=["name", "status"],
        purpose="出生医学证明核验",
        legal_basis="《母婴保健法》",
        valid_until=dt.date.today() + dt.timedelta(days=100),
    )
    client = staff_client("data_officer")
    page = client.get("/exchange/").content.decode()
    assert "人口基础信息" in page and "/exchange/resources/population/" in page
    detail = client.get("/exchange/resources/population/").content.decode()
    assert 'data-testid="quality"' in detail and "511602********" in detail
    assert ZHANGSAN not in detail
    assert f">{grant.reference}</a>" in client.get("/exchange/grants/?status=pending").content.decode()
    assert f">{grant.reference}</a>" not in client.get("/exchange/grants/?status=approved").content.decode()
    response = client.post(f"/exchange/grants/{grant.reference}/decide", {"decision": "approve"})
    assert response.status_code == 302
    client.post(f"/exchange/grants/{grant.reference}/decide", {"decision": "approve"})
    assert Grant.objects.get(pk=grant.pk).status == GrantStatus.APPROVED
    services.verify(SYSTEM, "population", "registered", subject=ZHANGSAN, purpose="x", department_code="wjj")
    log = client.get("/exchange/calls/").content.decode()
    assert "<svg" in log and "registered" in log
    assert 'data-testid="share-rate">100 %' in log  # one request, answered
    assert client.get("/exchange/calls/?by=provider").status_code == 200
    response = client.post(
        "/exchange/grants/new",
        {
            "resource": "population",
            "consumer": "ggb",
            "fields": ["status"],
            "purpose": "",
            "legal_basis": "x",
            "valid_until": "2020-01-01",
        },
    )
    assert response.status_code == 200 and "field-error" in response.content.decode()
    assert client.get("/exchange/negative-list/").status_code == 200
    response = client.post(
        "/exchange/negative-list/", {"resource": "population", "field": "address", "reason": "敏感"}
    )
    assert response.status_code == 302
    assert "address" in client.get("/exchange/negative-list/").content.decode()
    assert 'data-testid="revoke"' in client.get(f"/exchange/grants/{grant.reference}/").content.decode()
    assert (
        client.post(f"/exchange/grants/{grant.reference}/revoke", {"reason": "用途结束"}).status_code == 302
    )
    assert Grant.objects.get(pk=grant.pk).status == GrantStatus.REVOKED


def test_pages_hide_what_a_department_may_not_see(population, staff_client):
    grant = services.request_grant(
        SYSTEM,
        consumer_code="wjj",
        resource_code="population",
        fields=["status"],
        purpose="核验",
        legal_basis="x",
        valid_until=dt.date.today() + dt.timedelta(days=10),
    )
    client = staff_client("reviewer_rs")
    assert client.get(f"/exchange/grants/{grant.reference}/").status_code == 404
    assert client.get("/exchange/resources/population/").status_code == 200
    assert 'data-testid="quality"' not in client.get("/exchange/resources/population/").content.decode()
    assert (
        client.post(f"/exchange/grants/{grant.reference}/decide", {"decision": "approve"}).status_code == 404
    )
    assert client.get("/exchange/negative-list/").status_code == 200


def test_a_provider_registers_a_resource_over_the_api(db, staff_client):
    officer = staff_client("bureau_head")  # 市场监管局
    resource = {
        "name": "食品经营主体",
        "subject": "食品经营主体",
        "provider": "scjgj",
        "key_kind": "enterprise",
        "key_field": "uscc",
        "fields": [
            {"key": "uscc", "label": "信用代码", "level": "public", "required": True},
            {"key": "form", "label": "主体业态", "level": "secret"},
        ],
        "predicates": {"x": {"all": [["nope", "eq", 1]]}},
    }
    csrf = {"HTTP_X_CSRFTOKEN": officer.cookies["csrftoken"].value}
    response = officer.put(
        "/api/v1/exchange/resources/food", resource, content_type="application/json", **csrf
    )
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"fields.1.level", "predicates.x"}
    resource["fields"][1]["level"] = "internal"
    resource["predicates"] = {"catering": {"label": "餐饮", "all": [["form", "eq", "餐饮服务经营者"]]}}
    response = officer.put(
        "/api/v1/exchange/resources/food", resource, content_type="application/json", **csrf
    )
    assert response.status_code == 200, response.content
    assert response.json()["predicates"] == [{"code": "catering", "label": "餐饮", "params": []}]
    resource["provider"] = "rsj"
    response = officer.put(
        "/api/v1/exchange/resources/food2", resource, content_type="application/json", **csrf
    )
    assert response.status_code == 403  # not their department
    resource["provider"] = "scjgj"
    response = officer.put(
        "/api/v1/exchange/resources/food2", resource, content_type="application/json", **csrf
    )
    assert response.status_code == 422 and "subject" in response.json()["error"]["fields"]  # 一数一源
