"""Issue 9: rate limits on registration, login, SMS codes and the public licence scan and verify
endpoints (core.ratelimit, django-ratelimit over the shared cache). Over the limit the answer is a
429 with the bilingual error shape and Retry-After; every attempt counts whatever its outcome, so
the limit says nothing about whether an ID number exists."""

import json

import pytest
from django.conf import settings
from django.test import Client, override_settings

from tongban.accounts.models import Person
from tongban.core.ratelimit import client_address


@pytest.fixture(autouse=True)
def _one_window(monkeypatch):
    """The counting window is fixed by the clock (django-ratelimit's time.time); a test's requests
    must not straddle a window's end on a slow machine, where the count starts again (a flaky 200
    instead of 429 in CI). The clock stands still for django-ratelimit alone."""
    import time
    from types import SimpleNamespace

    from django_ratelimit import core

    now = time.time()
    monkeypatch.setattr(core, "time", SimpleNamespace(time=lambda: now))


def limits(**changes):
    """The settings' table with some groups' rates changed (routes as configured)."""
    table = dict(settings.TONGBAN_RATE_LIMITS)
    for group, rate in changes.items():
        table[group] = (rate, table[group][1])
    return override_settings(TONGBAN_RATE_LIMITS=table)


def _post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def _limited(response, *, api: bool) -> None:
    assert response.status_code == 429, response.content[:300]
    assert int(response["Retry-After"]) >= 1
    if api:
        error = response.json()["error"]
        assert error["code"] == "rate_limited"
        assert "请求过多" in error["message"]["zh-Hans"] and "Too many requests" in error["message"]["en"]
    else:
        page = response.content.decode()
        assert "请求过多" in page and "Too many requests" in page


def test_login_is_limited_per_address_at_the_configured_rate(db):
    """At the configured rate (60 a minute); different usernames each time, so the account lockout
    never fires."""
    rate = int(settings.TONGBAN_RATE_LIMITS["login"][0].split("/")[0])
    client = Client(REMOTE_ADDR="198.51.100.7")
    for n in range(rate):
        response = client.post("/accounts/login", {"username": f"nobody{n}", "password": "wrong"})
        assert response.status_code == 200, n
    _limited(client.post("/accounts/login", {"username": "lisi", "password": "x"}), api=False)
    # Someone else, and the same people reading the login page, are not held up.
    assert client.get("/accounts/login").status_code == 200
    other = Client(REMOTE_ADDR="198.51.100.8")
    right = {"username": "lisi", "password": settings.TONGBAN_DEMO_PASSWORD}
    assert other.post("/accounts/login", right).status_code == 302


def _register(client, number: str, username: str):
    body = {
        "username": username,
        "password": "a-long-password-2026",
        "name": "王小明",
        "id_number": number,
        "phone": "13912345678",
    }
    return client.post("/api/v1/citizens", json.dumps(body), content_type="application/json")


@limits(register="3/h")
def test_registration_is_limited_and_the_limit_does_not_tell_which_numbers_exist(db):
    registered = Person.objects.get(user__username="lisi").id_number
    unregistered = "11010519491231002X"
    client = Client(REMOTE_ADDR="203.0.113.5")
    # Every attempt counts: a new number, a registered one, a malformed one.
    _register(client, unregistered, "newcomer1")
    _register(client, registered, "newcomer2")
    _register(client, "123", "newcomer3")
    refused = [_register(client, number, "newcomer4") for number in (registered, unregistered)]
    for response in refused:
        _limited(response, api=True)

    def same(response):
        body = response.json()
        body["error"].pop("request_id")
        return body, response["Retry-After"]

    assert same(refused[0])[0] == same(refused[1])[0]
    # The web form shares the group.
    _limited(Client(REMOTE_ADDR="203.0.113.5").post("/accounts/register", {}), api=False)
    assert _register(Client(REMOTE_ADDR="203.0.113.6"), unregistered, "newcomer5").status_code != 429


@limits(sms="2/h")
def test_sms_codes_are_limited_per_address(db):
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(2):
        assert _post_json(client, "/api/v1/me/identity/phone/code", {}).status_code != 429
    _limited(_post_json(client, "/api/v1/me/identity/phone/code", {}), api=True)
    # On the identity page only the send-code button counts.
    page = Client(REMOTE_ADDR="203.0.113.9")
    _limited(page.post("/accounts/identity", {"action": "send_code", "phone": "13912345678"}), api=False)
    assert page.post("/accounts/identity", {"action": "confirm_code", "code": "1"}).status_code != 429


@limits(scan="3/m", verify="2/m")
def test_the_public_scan_and_verify_endpoints_are_limited(db):
    client = Client(REMOTE_ADDR="192.0.2.1")
    for _ in range(2):
        assert _post_json(client, "/api/v1/licences/scan", {"text": "x"}).status_code == 200
    assert client.post("/verify/scan/", {"text": "x"}).status_code == 200
    _limited(_post_json(client, "/api/v1/licences/scan", {"text": "x"}), api=True)
    _limited(client.post("/verify/scan/", {"text": "x"}), api=False)
    for _ in range(2):
        assert client.get("/api/v1/verify/TBL-NONE").status_code != 429
    _limited(client.get("/api/v1/verify/TBL-NONE"), api=True)
    _limited(client.get("/verify/TBL-NONE"), api=False)


@limits(scan="off")
def test_a_group_can_be_turned_off(db):
    client = Client(REMOTE_ADDR="192.0.2.2")
    for _ in range(40):
        assert _post_json(client, "/api/v1/licences/scan", {"text": "x"}).status_code == 200


class _Request:
    def __init__(self, remote: str, forwarded: str = ""):
        self.META = {"REMOTE_ADDR": remote}
        if forwarded:
            self.META["HTTP_X_FORWARDED_FOR"] = forwarded


@pytest.mark.parametrize(
    ("behind_proxy", "remote", "forwarded", "counted_as"),
    [
        (False, "198.51.100.7", "10.0.0.1", "198.51.100.7"),  # no proxy: the header is the client's word
        (True, "127.0.0.1", "10.9.9.9, 198.51.100.7", "198.51.100.7"),  # the entry our proxy appended
        (True, "127.0.0.1", "", "127.0.0.1"),
        (False, "2001:db8:1:2:3:4:5:6", "", "2001:db8:1:2::/64"),
    ],
)
def test_who_is_counted(behind_proxy, remote, forwarded, counted_as):
    with override_settings(TONGBAN_BEHIND_PROXY=behind_proxy):
        assert client_address(_Request(remote, forwarded)) == counted_as
