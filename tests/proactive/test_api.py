"""Proactive services over the API: an enterprise's matches with their reasons, its 免申即享 grants,
and its answer to each (accept, decline, contest) — each caller only for the enterprises they act
for."""

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import actor, totp_for
from tongban.core import events
from tongban.exchange import demo as exchange_demo
from tongban.proactive import demo, services
from tongban.proactive.models import Benefit, BenefitStatus

API = "/api/v1"
RESTAURANT, BUILDER = demo.RESTAURANT, demo.BUILDER


@pytest.fixture
def matched(db):
    exchange_demo.load_exchange()
    demo.load_policies()
    return services.run_matching(actor("data_officer"), demo.DEPARTMENT)


def _login(username: str) -> Client:
    client = Client()
    response = client.post(
        "/accounts/login", {"username": username, "password": settings.TONGBAN_DEMO_PASSWORD}
    )
    assert response.status_code == 302
    if "mfa" in response["Location"]:
        assert client.post("/accounts/mfa/verify", {"otp_token": totp_for(username)}).status_code == 302
    return client


def _post(client: Client, path: str, body: dict | None = None):
    return client.post(f"{API}{path}", body or {}, content_type="application/json")


def test_a_citizen_sees_the_matches_and_grants_of_the_enterprises_they_act_for_only(matched):
    zhangsan = _login("zhangsan")  # legal representative of the restaurant
    found = zhangsan.get(f"{API}/proactive/enterprises/{RESTAURANT}/matches")
    assert found.status_code == 200
    body = found.json()
    assert body["enterprise"] == RESTAURANT
    wengang = next(m for m in body["matches"] if m["policy"] == "wengang-fanhuan")
    assert wengang["outcome"] == "qualified" and wengang["automatic"] is True
    assert [r["result"] for r in wengang["reasons"]] == [True] * 5
    assert wengang["reasons"][4]["label"] == "无欠税"
    assert {"item": "employees", "label": "参保职工人数", "value": 28} in wengang["values"]
    assert wengang["run"] == matched.reference and wengang["grant"] is not None
    assert {m["policy"] for m in body["matches"]} == {"wengang-fanhuan", "chuangye-tiexi"}
    assert [b["policy"] for b in body["benefits"]] == ["wengang-fanhuan"]

    # another enterprise's page is not found, for him and for staff; strangers must log in
    assert zhangsan.get(f"{API}/proactive/enterprises/{BUILDER}/matches").status_code == 404
    assert _login("data_officer").get(f"{API}/proactive/enterprises/{RESTAURANT}/matches").status_code == 404
    assert Client().get(f"{API}/proactive/enterprises/{RESTAURANT}/matches").status_code == 401

    mine = zhangsan.get(f"{API}/proactive/benefits").json()
    assert {b["enterprise"] for b in mine} == {RESTAURANT}
    grant = mine[0]
    assert (
        grant["status"] == "granted" and grant["may_accept"] and grant["may_decline"] and grant["may_contest"]
    )
    assert grant["values"]["employees"] == 28 and grant["values"]["tax_arrears"] is False
    lisi = _login("lisi")  # an agent of the restaurant and of the builder
    assert {b["enterprise"] for b in lisi.get(f"{API}/proactive/benefits").json()} == {RESTAURANT, BUILDER}
    assert _login("data_officer").get(f"{API}/proactive/benefits").status_code == 403
    assert Client().get(f"{API}/proactive/benefits").status_code == 401


def test_a_grant_is_accepted_or_declined_once_by_its_beneficiary_and_a_decline_is_remembered(matched):
    zhangsan, lisi = _login("zhangsan"), _login("lisi")
    restaurant = Benefit.objects.get(policy__code="wengang-fanhuan", subject_key=RESTAURANT)
    builder = Benefit.objects.get(subject_key=BUILDER)

    # nobody answers for an enterprise they do not act for; staff do not answer at all
    assert _post(zhangsan, f"/proactive/benefits/{builder.reference}/accept").status_code == 404
    assert _post(_login("data_officer"), f"/proactive/benefits/{builder.reference}/accept").status_code == 403
    assert _post(zhangsan, "/proactive/benefits/B2026NOSUCHGRANT/accept").status_code == 404

    # a decline needs a reason (field-level error), then is recorded with its event
    refused = _post(zhangsan, f"/proactive/benefits/{restaurant.reference}/decline", {"reason": "  "})
    assert refused.status_code == 422 and "reason" in refused.json()["error"]["fields"]
    assert _post(zhangsan, f"/proactive/benefits/{restaurant.reference}/decline").status_code == 422
    declined = _post(
        zhangsan, f"/proactive/benefits/{restaurant.reference}/decline", {"reason": "本年度已享受同类补贴"}
    )
    assert declined.status_code == 200
    assert (
        declined.json()["status"] == "declined"
        and declined.json()["decline_reason"] == "本年度已享受同类补贴"
    )
    assert not declined.json()["may_accept"] and not declined.json()["may_contest"]
    # answered once: neither accepted afterwards nor contested
    again = _post(lisi, f"/proactive/benefits/{restaurant.reference}/accept")
    assert again.status_code == 422 and "status" in again.json()["error"]["fields"]
    assert (
        _post(lisi, f"/proactive/benefits/{restaurant.reference}/contest", {"reason": "x"}).status_code == 422
    )

    accepted = _post(lisi, f"/proactive/benefits/{builder.reference}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    builder.refresh_from_db()
    assert builder.status == BenefitStatus.ACCEPTED and builder.answered_at is not None
    assert [e.activity for e in events.history("benefit", builder.reference)] == [
        "benefit.granted",
        "benefit.accepted",
    ]
    assert [e.activity for e in events.history("benefit", restaurant.reference)][-1] == "benefit.declined"

    # the next run does not grant the declined benefit again
    services.run_matching(actor("data_officer"), demo.DEPARTMENT)
    assert list(
        Benefit.objects.filter(policy__code="wengang-fanhuan", subject_key=RESTAURANT).values_list(
            "status", flat=True
        )
    ) == ["declined"]


def test_a_contest_over_the_api_goes_to_review_and_a_confirmed_grant_can_then_be_accepted(matched):
    zhangsan = _login("zhangsan")
    grant = Benefit.objects.get(policy__code="wengang-fanhuan", subject_key=RESTAURANT)
    contested = _post(
        zhangsan, f"/proactive/benefits/{grant.reference}/contest", {"reason": "裁员率数据有误"}
    )
    assert contested.status_code == 200 and contested.json()["status"] == "contested"
    assert not contested.json()["may_accept"]  # under review: nothing to answer yet
    services.review(actor("data_officer"), grant.reference, confirm=True, note="数据核实无误")
    confirmed = zhangsan.get(f"{API}/proactive/benefits").json()[0]
    assert confirmed["status"] == "confirmed" and confirmed["decision_note"] == "数据核实无误"
    assert confirmed["may_accept"]
    assert _post(zhangsan, f"/proactive/benefits/{grant.reference}/accept").json()["status"] == "accepted"
