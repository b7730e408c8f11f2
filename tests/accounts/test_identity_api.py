"""Identity assurance over HTTP: the issue's repro, registration that reveals nothing, the 实名认证 steps
and the window's claims."""

import json

from django.test import Client

from tests.accounts.conftest import HOLDER, HOLDER_NAME, ZHANGSAN
from tongban.accounts.models import IdentityClaim, Person
from tongban.core.authz import SYSTEM
from tongban.licences import demo as licence_demo
from tongban.licences import services as licences

PASSWORD = "a-long-password-2026"


def _post(client, path, data):
    return client.post(path, json.dumps(data), content_type="application/json")


def _registration(username, name, number, phone="13912345678"):
    return {"username": username, "password": PASSWORD, "name": name, "id_number": number, "phone": phone}


def _login(username, password=PASSWORD) -> Client:
    client = Client()
    response = client.post("/accounts/login", {"username": username, "password": password})
    assert response.status_code == 302, response.content[:300]
    return client


def _issue_resident_id(number, name) -> str:
    licence_demo.load_types()
    return licences.issue(
        SYSTEM,
        "resident_id",
        holder_id=number,
        holder_name=name,
        fields={"address": "建设路12号", "issuing_authority": "广安市公安局广安区分局"},
    ).code


def test_issue_repro_a_stranger_registering_a_number_gets_none_of_its_licences(register, outbox):
    """Issue 9, defect 1: issue a resident ID to X; register X as 攻击者; log in; download the licence."""
    code = _issue_resident_id(HOLDER, HOLDER_NAME)
    created = _post(Client(), "/api/v1/citizens", _registration("attacker", "攻击者", HOLDER))
    assert created.status_code == 201
    attacker = _login("attacker")
    # Before the fix: 200 and the holder's licence. Now: the account has no verified identity.
    download = attacker.get(f"/me/licences/{code}.png")
    assert download.status_code == 403 and b"\x89PNG" not in download.content
    assert "/accounts/identity" in download.content.decode()
    assert attacker.get("/me/licences/").status_code == 403
    # It cannot get verified under a name the register does not hold for the number.
    refused = _post(attacker, "/api/v1/me/identity/real-name", {})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "not_verified"
    assert attacker.get("/api/v1/me/identity").json()["level"] == 0
    # The real holder can still register the number, and reach their licence.
    again = _post(Client(), "/api/v1/citizens", _registration("holder", HOLDER_NAME, HOLDER))
    assert again.status_code == 201
    holder = _login("holder")
    assert _post(holder, "/api/v1/me/identity/real-name", {}).json()["level"] == 1
    sent = _post(holder, "/api/v1/me/identity/phone/code", {}).json()
    assert sent["phone"] == "139****5678" and sent["delivered"] is False
    verified = _post(holder, "/api/v1/me/identity/phone", {"code": outbox.code("13912345678")})
    assert verified.json()["level"] == 2
    image = holder.get(f"/me/licences/{code}.png")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert attacker.get(f"/me/licences/{code}.png").status_code == 403


def test_registering_a_taken_number_answers_exactly_like_a_fresh_one(register):
    fresh = _post(Client(), "/api/v1/citizens", _registration("newone", "某甲", HOLDER))
    taken = _post(Client(), "/api/v1/citizens", _registration("newtwo", "某甲", ZHANGSAN))
    assert fresh.status_code == taken.status_code == 201
    body_fresh, body_taken = fresh.json(), taken.json()
    assert body_fresh.pop("username") == "newone" and body_taken.pop("username") == "newtwo"
    assert body_fresh == body_taken
    assert set(fresh.headers) == set(taken.headers)
    # What each can read afterwards is alike too.
    a = _login("newone").get("/api/v1/me/identity").json()
    b = _login("newtwo").get("/api/v1/me/identity").json()
    assert a.keys() == b.keys() and (a["level"], b["level"]) == (0, 0)
    assert _login("newtwo").get("/api/v1/me").json()["person"] is None
    # The registration page says the same to both.
    pages = []
    for username, number in (("pageone", HOLDER), ("pagetwo", ZHANGSAN)):
        client = Client()
        response = client.post("/accounts/register", _registration(username, "某甲", number), follow=True)
        pages.append(response.redirect_chain)
    assert pages[0] == pages[1] == [("/accounts/identity", 302)]


def test_refusals_for_too_low_a_level_name_the_level_and_the_way_up(db):
    _post(Client(), "/api/v1/citizens", _registration("lowlevel", "某甲", HOLDER))
    client = _login("lowlevel")
    response = _post(
        client, "/api/v1/me/identity/phone/code", {}
    )  # L2 needs L1 first: refused with the way up
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "assurance_required" and error["link"] == "/accounts/identity"
    assert (error["required_level"], error["current_level"]) == (1, 0)
    assert "L1" in error["message"]["zh-Hans"] and "L1" in error["message"]["en"]
    assert error["message"]["zh-Hans"] != error["message"]["en"]


def test_the_identity_page_takes_a_citizen_from_l0_to_l2(register, outbox):
    _post(Client(), "/api/v1/citizens", _registration("pageuser", HOLDER_NAME, HOLDER))
    client = _login("pageuser")
    page = client.get("/accounts/identity").content.decode()
    assert 'data-level="0"' in page and 'data-testid="step-real-name"' in page
    assert client.post("/accounts/identity", {"action": "real_name"}).status_code == 302
    page = client.get("/accounts/identity").content.decode()
    assert 'data-level="1"' in page and 'data-testid="step-phone"' in page
    sent = client.post("/accounts/identity", {"action": "send_code", "phone": "13912345678"})
    assert sent.status_code == 302
    wrong = client.post("/accounts/identity", {"action": "confirm_code", "code": "12"})
    assert wrong.status_code == 200 and 'data-field="code"' in wrong.content.decode()
    code = outbox.code("13912345678")
    assert client.post("/accounts/identity", {"action": "confirm_code", "code": code}).status_code == 302
    page = client.get("/accounts/identity").content.decode()
    assert 'data-level="2"' in page and "face-check-unavailable" in page
    assert client.get("/me/licences/").status_code == 200


def test_the_window_sees_claims_and_binds_in_person(register, staff_client):
    # An account bound before this release holds the number; the holder registers it again.
    Person.objects.create(
        name="攻击者",
        id_number=HOLDER,
        user=_make_legacy_user("legacy"),
    )
    _post(Client(), "/api/v1/citizens", _registration("claimant", HOLDER_NAME, HOLDER))
    claim = IdentityClaim.objects.get(user__username="claimant")
    clerk = staff_client("clerk")
    listed = clerk.get("/api/v1/identity/claims").json()
    assert [c["account"] for c in listed["items"]] == ["claimant"]
    assert listed["items"][0]["id_number"].startswith("511602") and HOLDER not in json.dumps(listed)
    page = clerk.get(f"/window/identity/{claim.public_id}").content.decode()
    assert 'data-testid="rebinding"' in page and HOLDER not in page
    approve = {"decision": "approve", "id_number": HOLDER, "name": HOLDER_NAME}
    missing_check = clerk.post(f"/window/identity/{claim.public_id}", approve)
    assert missing_check.status_code == 200  # the clerk must confirm they checked the card
    done = clerk.post(
        f"/window/identity/{claim.public_id}",
        {"decision": "approve", "id_number": HOLDER, "name": HOLDER_NAME, "checked": "on"},
    )
    assert done.status_code == 302
    holder = Person.objects.get(user__username="claimant")
    assert holder.assurance_level == 3 and not Person.objects.filter(user__username="legacy").exists()
    assert clerk.get("/api/v1/identity/claims").json()["items"] == []
    # Citizens and other staff cannot see claims.
    assert _login("claimant").get("/api/v1/identity/claims").status_code == 403


def test_a_clerk_looks_claims_up_by_number_without_it_in_the_url(register, staff_client):
    _post(Client(), "/api/v1/citizens", _registration("lookme", "某甲", HOLDER))
    clerk = staff_client("clerk")
    found = _post(clerk, "/api/v1/identity/claims/lookup", {"id_number": HOLDER}).json()
    assert [c["account"] for c in found] == ["lookme"]
    page = clerk.post("/window/identity", {"id_number": HOLDER}).content.decode()
    assert "lookme" in page and HOLDER not in page


def _make_legacy_user(username):
    from tongban.accounts.models import User

    return User.objects.create_user(username, PASSWORD, display_name="旧账号", kind="citizen")


def test_an_unverified_citizen_can_use_every_page_of_the_portal_without_an_error(db):
    _post(Client(), "/api/v1/citizens", _registration("browsing", "某甲", HOLDER))
    client = _login("browsing")
    for url in ("/", "/services/", "/my/cases/", "/accounts/enterprises", "/accounts/me", "/inbox/"):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    assert client.get("/accounts/identity").status_code == 200
    refused = client.get("/me/licences/")
    assert refused.status_code == 403 and 'data-testid="refusal-link"' in refused.content.decode()
    assert client.get("/api/v1/me").json()["assurance_level"] == 0
