"""Issue 9's repros for defects 1, 7 and (part of) 10, written against the public surface only (HTTP
and services that existed before the fix), so the same file fails on the code before the fix and
passes after it. The detailed tests are test_identity*.py, test_lockout.py and test_usernames.py."""

import datetime as dt
import json

import pytest
from django.conf import settings
from django.test import Client

from tongban.accounts import services
from tongban.accounts.models import Person
from tongban.accounts.seed import demo_id_number
from tongban.core.authz import SYSTEM
from tongban.core.errors import InvalidInput
from tongban.licences import demo as licence_demo
from tongban.licences import services as licences

X = demo_id_number("511602", dt.date(1988, 5, 20), 41)


def _register(username, name, number):
    body = {
        "username": username,
        "password": "a-long-password-2026",
        "name": name,
        "id_number": number,
        "phone": "13912345678",
    }
    return Client().post("/api/v1/citizens", json.dumps(body), content_type="application/json")


def test_defect_1_a_stranger_registering_an_id_number_gets_none_of_its_licences(db):
    licence_demo.load_types()
    code = licences.issue(
        SYSTEM,
        "resident_id",
        holder_id=X,
        holder_name="王小明",
        fields={"address": "建设路12号", "issuing_authority": "广安市公安局广安区分局"},
    ).code
    assert _register("attacker", "攻击者", X).status_code == 201
    client = Client()
    assert (
        client.post(
            "/accounts/login", {"username": "attacker", "password": "a-long-password-2026"}
        ).status_code
        == 302
    )
    assert client.get(f"/me/licences/{code}.png").status_code != 200
    assert code not in client.get("/me/licences/").content.decode()
    # The real holder can still register the number, and is told nothing about the earlier account.
    again = _register("holder", "王小明", X)
    assert again.status_code == 201, again.content


def test_defect_7_both_names_of_an_account_count_towards_one_lock_per_source(db):
    number = Person.objects.get(user__username="lisi").id_number
    for name in ["lisi"] * (settings.AXES_FAILURE_LIMIT - 1) + [number]:
        Client(REMOTE_ADDR="10.0.0.1").post("/accounts/login", {"username": name, "password": "wrong"})
    right = {"password": settings.TONGBAN_DEMO_PASSWORD}
    assert (
        Client(REMOTE_ADDR="10.0.0.1").post("/accounts/login", {"username": "lisi", **right}).status_code
        == 429
    )
    assert (
        Client(REMOTE_ADDR="10.0.0.1").post("/accounts/login", {"username": number, **right}).status_code
        == 429
    )
    # A guesser elsewhere does not lock the owner out.
    assert (
        Client(REMOTE_ADDR="10.9.9.9").post("/accounts/login", {"username": "lisi", **right}).status_code
        == 302
    )


@pytest.mark.parametrize("username", ["ADMIN", "ad\u200bmin", "аdmin"])
def test_defect_10_look_alike_usernames_are_refused(db, username):
    with pytest.raises(InvalidInput):
        services.create_staff(SYSTEM, username=username, display_name="冒充者", department_code="ggb")
