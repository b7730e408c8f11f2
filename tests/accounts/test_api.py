"""The HTTP API: authentication (session with CSRF, bearer tokens), one error shape, scoping."""

import json

import pytest
from django.conf import settings
from django.db import IntegrityError
from django.test import Client

from tongban.accounts import services
from tongban.accounts.models import IdentityClaim, Person, User
from tongban.core.authz import SYSTEM
from tongban.core.models import AuditEntry


def _assert_error_shape(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert body["code"] == code
    assert set(body["message"]) == {"zh-Hans", "en"}
    assert body["message"]["zh-Hans"] != body["message"]["en"]
    assert body["request_id"] == response["X-Request-ID"]
    return body


def _post(client, path, data, **extra):
    return client.post(path, json.dumps(data), content_type="application/json", **extra)


def test_openapi_document_is_published(db, client):
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "tongban API"
    for path in (
        "/api/v1/me",
        "/api/v1/persons/lookup",
        "/api/v1/staff",
        "/api/v1/audit/verify",
        "/api/v1/calendar/add",
    ):
        assert path in spec["paths"], path
    # Built once per process and language, then served as built.
    from tongban.api import api

    assert api.get_openapi_schema() is api.get_openapi_schema()
    assert client.get("/api/v1/openapi.json").json() == spec


def test_unauthenticated_calls_get_401_in_the_common_shape(db, client):
    _assert_error_shape(client.get("/api/v1/me"), 401, "not_authenticated")
    _assert_error_shape(client.get("/api/v1/staff"), 401, "not_authenticated")


def test_citizen_sees_own_record_unmasked_and_nobody_else(db, citizen_client):
    client = citizen_client("zhangsan")
    me = client.get("/api/v1/me").json()
    own = Person.objects.get(user__username="zhangsan")
    assert (
        me["kind"] == "citizen" and me["person"]["id_number"] == own.id_number and not me["person"]["masked"]
    )
    other = Person.objects.get(user__username="lisi")
    _assert_error_shape(client.get(f"/api/v1/persons/{other.public_id}"), 404, "not_found")
    _assert_error_shape(client.get("/api/v1/staff"), 403, "not_permitted")
    enterprises = client.get("/api/v1/me/enterprises").json()
    assert [e["kind"] for e in enterprises] == ["legal_representative"]


def test_registration_errors_are_per_field_in_both_languages_and_write_nothing(db, client):
    users = User.objects.count()
    response = _post(
        client,
        "/api/v1/citizens",
        {
            "username": "qianqi",
            "password": "123",
            "name": "",
            "id_number": "110105194912310021",
            "phone": "12345678901",
        },
    )
    body = _assert_error_shape(response, 422, "invalid_input")
    fields = body["fields"]
    assert set(fields) == {"password", "name", "id_number", "phone"}
    checksum = fields["id_number"][0]
    assert checksum["code"] == "checksum"
    assert "校验位" in checksum["message"]["zh-Hans"] and "check character" in checksum["message"]["en"]
    assert {p["code"] for p in fields["password"]} >= {"password_too_short", "password_entirely_numeric"}
    assert all(p["message"]["zh-Hans"] != p["message"]["en"] for p in fields["password"])
    assert User.objects.count() == users


def test_registration_succeeds_with_good_input(db, client):
    response = _post(
        client,
        "/api/v1/citizens",
        {
            "username": "qianqi",
            "password": "a-long-password-2026",
            "name": "钱七",
            "id_number": "11010519491231002x",
            "phone": "+86 139-0000-0009",
        },
    )
    assert response.status_code == 201, response.content
    assert response.json() == {
        "username": "qianqi",
        "display_name": "钱七",
        "kind": "citizen",
        "assurance_level": 0,
        "next": "/api/v1/me/identity",
    }
    # No person is bound until the account proves it is that person (实名认证, accounts.identity):
    # the claim keeps what was typed, normalised.
    claim = IdentityClaim.objects.get(user__username="qianqi")
    assert (claim.id_number, claim.phone, claim.status) == ("11010519491231002X", "13900000009", "pending")
    assert not Person.objects.filter(user__username="qianqi").exists()


def test_schema_errors_use_the_same_shape(db, client):
    missing = _post(client, "/api/v1/citizens", {"username": "x"})
    fields = _assert_error_shape(missing, 422, "invalid_input")["fields"]
    assert fields["id_number"][0]["code"] == "missing"
    bad_json = client.post("/api/v1/citizens", "{not json", content_type="application/json")
    _assert_error_shape(bad_json, 400, "bad_request")
    bad_date = client.get("/api/v1/calendar/add?start=2026-13-01&days=1")
    assert "start" in _assert_error_shape(bad_date, 422, "invalid_input")["fields"]


def test_session_writes_need_the_csrf_token(db):
    client = Client(enforce_csrf_checks=True)
    client.post(
        "/accounts/login",
        {"username": "zhangsan", "password": "Tongban#2026", "csrfmiddlewaretoken": _csrf(client)},
    )
    response = _post(
        client,
        "/api/v1/enterprises/" + services.my_enterprises(_actor("zhangsan"))[0][0].uscc + "/agents",
        {"agent_id_number": "11010519491231002X"},
    )
    body = _assert_error_shape(response, 403, "not_permitted")
    assert "CSRF" in body["message"]["en"]


def _csrf(client):
    return client.get("/accounts/login").cookies["csrftoken"].value


def _actor(username):
    from tongban.accounts.actors import Actor

    return Actor(User.objects.get(username=username))


def test_staff_api_is_scoped_and_masks_phone_numbers(db, staff_client):
    services.create_staff(
        SYSTEM,
        username="phone_user",
        display_name="有手机",
        department_code="rsj-shbxk",
        phone="13912345678",
        roles=[("reviewer", False)],
    )
    head = staff_client("bureau_head")
    _assert_error_shape(head.get("/api/v1/staff/reviewer_rs"), 404, "not_found")
    listed = head.get("/api/v1/staff?page=1").json()
    assert {s["username"] for s in listed["items"]} == {
        "reviewer",
        "section_head",
        "division_head",
        "bureau_head",
    }
    head.post("/accounts/logout")
    admin = staff_client("admin")
    detail = admin.get("/api/v1/staff/phone_user").json()
    assert detail["phone"] == "139****5678"
    assert detail["roles"] == [{"role": "reviewer", "department": "rsj-shbxk", "include_subtree": False}]


def test_lookup_is_journalled_and_keeps_the_number_out_of_urls(db, staff_client):
    client = staff_client("clerk")
    number = Person.objects.get(user__username="lisi").id_number
    response = _post(client, "/api/v1/persons/lookup", {"id_number": number})
    card = response.json()
    assert card["masked"] and card["id_number"] == number[:6] + "********" + number[-4:]
    entry = AuditEntry.objects.filter(action="accounts.person.lookup").latest("seq")
    assert entry.actor_label == "clerk" and number not in json.dumps(entry.detail, ensure_ascii=False)
    _assert_error_shape(
        _post(client, "/api/v1/persons/lookup", {"id_number": "11010519491231002X"}), 404, "not_found"
    )


def test_system_accounts_use_bearer_tokens(db, client):
    services.create_staff(
        SYSTEM,
        username="sys-scjg",
        display_name="市场监管系统",
        department_code="scjgj",
        kind="system",
        roles=[("reviewer", True)],
    )
    raw, token = services.create_api_token(SYSTEM, username="sys-scjg", name="integration", days=30)
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    assert me["kind"] == "system" and me["roles"][0]["department"] == "scjgj"
    staff = client.get("/api/v1/staff", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    assert {s["username"] for s in staff["items"]} >= {"reviewer", "bureau_head", "sys-scjg"}
    assert "reviewer_rs" not in {s["username"] for s in staff["items"]}
    _assert_error_shape(
        client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}x"), 401, "not_authenticated"
    )
    services.revoke_api_token(SYSTEM, prefix=token.prefix)
    _assert_error_shape(
        client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}"), 401, "not_authenticated"
    )
    assert raw not in json.dumps(list(AuditEntry.objects.values_list("detail", flat=True)))


def test_system_accounts_write_with_bearer_tokens_without_csrf(db):
    """Another system has no browser session and no CSRF cookie: its token alone authorises a POST
    (the test client skips CSRF checks unless told, so this one enforces them as a real server)."""
    services.create_staff(
        SYSTEM,
        username="sys-window",
        display_name="自助终端",
        department_code="xzspj",
        kind="system",
        roles=[("clerk", True)],
    )
    raw, _token = services.create_api_token(SYSTEM, username="sys-window", name="kiosk", days=30)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/persons",
        {"name": "赵六", "id_number": "11010519491231002X", "phone": "13800000099"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code in (200, 201), response.content
    # A browser session still needs its CSRF token, token or not.
    client.cookies[settings.SESSION_COOKIE_NAME] = "whatever"
    refused = client.post("/api/v1/persons", {}, content_type="application/json")
    assert refused.status_code == 403


def test_unexpected_errors_are_500_in_the_common_shape(db, client, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("secret detail 110105194912310021")

    monkeypatch.setattr(services, "register_citizen", boom)
    response = _post(
        client,
        "/api/v1/citizens",
        {"username": "a", "password": "b", "name": "c", "id_number": "d", "phone": "e"},
    )
    body = _assert_error_shape(response, 500, "server_error")
    assert "110105" not in json.dumps(body)


def test_lost_uniqueness_races_are_409(db, client, monkeypatch):
    def race(**kwargs):
        raise IntegrityError("UNIQUE constraint failed")

    monkeypatch.setattr(services, "register_citizen", race)
    response = _post(
        client,
        "/api/v1/citizens",
        {"username": "a", "password": "b", "name": "c", "id_number": "d", "phone": "e"},
    )
    _assert_error_shape(response, 409, "conflict")


@pytest.mark.parametrize("username,status", [("supervisor", 200), ("admin", 200), ("clerk", 403)])
def test_journal_verification_over_the_api(db, staff_client, username, status):
    client = staff_client(username)
    response = client.post("/api/v1/audit/verify")
    assert response.status_code == status
    if status == 200:
        assert response.json()["ok"] is True


def test_api_docs_load_nothing_from_a_cdn(db, client):
    """Government networks are closed: Swagger UI comes from our own static files."""
    import re

    page = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in page
    assert not re.search(r"""(src|href)=["']https?://""", page), page[:500]
