"""Issue 9, defects 5 and 6: input no part of the application can store is refused at the edge
(core.edge) with the bilingual error shape — 400 (413 for an oversized body), never a 500 — on
SQLite and on PostgreSQL alike. Each repro is the issue's own request."""

import json

import pytest
from django.conf import settings
from django.test import Client

from tongban.accounts import services as accounts
from tongban.core.authz import SYSTEM


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:400]
    body = response.json()["error"]
    assert body["code"] == code
    assert set(body["message"]) == {"zh-Hans", "en"} and all(body["message"].values())
    assert body["request_id"] == response["X-Request-ID"]
    return body


@pytest.fixture
def token(db):
    accounts.create_staff(
        SYSTEM,
        username="sys-audit",
        display_name="审计接口",
        department_code="ggb",
        kind="system",
        roles=[("supervisor", True)],
    )
    raw, _token = accounts.create_api_token(SYSTEM, username="sys-audit", name="edge", days=30)
    return raw


# --- defect 5: NUL and lone surrogates -----------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/catalog/items/a%00b",
        "/api/v1/licences/keys?department=%00",
        "/api/v1/catalog/items?q=a%00",
        "/api/v1/verify/TBL%00",
    ],
)
def test_nul_in_an_api_path_or_query_is_a_400_with_the_error_shape(db, url):
    _error(Client().get(url), 400, "bad_request")


def test_nul_in_a_page_path_is_a_400_page_in_both_languages(db):
    response = Client().get("/services/items/a%00b/")
    assert response.status_code == 400
    page = response.content.decode()
    assert "请求无法处理" in page and "Request refused" in page
    assert "cannot be stored" in page and "无法保存" in page and response["X-Request-ID"] in page


def _register(body: str):
    return Client().post("/api/v1/citizens", body, content_type="application/json")


@pytest.mark.parametrize(
    "name", ['"a\\u0000b"', '"a\\ud800b"', '"\\udc00"'], ids=["nul", "high-surrogate", "low-surrogate"]
)
def test_registering_with_a_nul_or_a_lone_surrogate_names_the_field(db, name):
    fields = '"username": "edgecase1", "password": "a-long-password-2026", "phone": "13912345678"'
    body = "{" + fields + ', "id_number": "11010519491231002X", "name": ' + name + "}"
    error = _error(_register(body), 400, "bad_request")
    assert list(error["fields"]) == ["name"]
    assert error["fields"]["name"][0]["code"] == "bad_character"


def test_a_surrogate_pair_is_a_character_like_any_other(db):
    body = json.dumps({"username": "x", "password": "p", "name": "😀", "id_number": "1", "phone": "1"})
    assert "\\ud83d\\ude00" in body
    assert "bad_character" not in _register(body).content.decode()


def test_nul_in_a_key_or_deep_inside_is_found(db):
    error = _error(_register('{"a": [{"b\\u0000": 1}], "c": {"d": ["x", "\\u0000"]}}'), 400, "bad_request")
    assert set(error["fields"]) == {"a.0", "c.d.1"}


def test_nul_in_a_form_field_is_refused_before_the_login_runs(db):
    response = Client().post("/accounts/login", {"username": "li\x00si", "password": "x"})
    assert response.status_code == 400
    assert "Request refused" in response.content.decode()


# --- defect 6: sizes, multipart, big integers, paging ---------------------------------------------


def test_a_json_body_over_the_limit_is_a_413(db):
    big = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    _error(_register(big), 413, "body_too_large")


UPLOAD_ENDPOINTS = [
    "/api/v1/cases/multipart",
    "/api/v1/cases/1/supplement-response",
    "/api/v1/cases/1/materials/x",
    "/api/v1/catalog/items/SX-1/decision-table/dmn",
    "/verify/scan/",
]


@pytest.mark.parametrize("url", UPLOAD_ENDPOINTS)
def test_multipart_without_a_boundary_is_a_400(db, url):
    response = Client().post(url, b"--x\r\n\r\nhello\r\n--x--\r\n", content_type="multipart/form-data")
    assert response.status_code == 400, response.content[:300]
    if url.startswith("/api/"):
        _error(response, 400, "malformed_multipart")


def test_a_json_integer_beyond_64_bits_is_a_field_error(db, citizen_client):
    client = citizen_client("zhangsan")
    response = client.post(
        "/api/v1/me/notifications/read", json.dumps({"ids": [1, 2**63]}), content_type="application/json"
    )
    error = _error(response, 400, "bad_request")
    assert error["fields"]["ids.1"][0]["code"] == "int_range"
    assert "ids.0" not in error["fields"]
    _error(_register(json.dumps({"n": -(2**63) - 1})), 400, "bad_request")
    # The edges themselves are fine.
    assert "int_range" not in _register(json.dumps({"n": 2**63 - 1, "m": -(2**63)})).content.decode()


def test_an_audit_page_far_beyond_the_end_is_a_field_error(token):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert Client().get("/api/v1/audit/entries", **auth).status_code == 200
    error = _error(Client().get(f"/api/v1/audit/entries?page={2**62}", **auth), 422, "invalid_input")
    assert error["fields"]["page"][0]["code"] == "less_than_equal"
    error = _error(Client().get(f"/api/v1/audit/entries?page_size={2**62}", **auth), 422, "invalid_input")
    assert "page_size" in error["fields"]


def test_an_id_beyond_the_database_range_in_a_url_is_a_400(db, token):
    response = Client().get(f"/api/v1/staff/{2**70}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code in (400, 404, 422), response.content[:300]
