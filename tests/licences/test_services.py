"""E-licences: issued and signed by the issuing department, verified by code, with rotation,
revocation, expiry and tampering each reported as such."""

import datetime as dt
import json

import pytest
from gmssl import sm2 as gmssl_sm2

from tongban.accounts.actors import Actor
from tongban.accounts.models import User
from tongban.accounts.seed import demo_uscc
from tongban.core.authz import SYSTEM
from tongban.core.errors import InvalidInput, NotPermitted
from tongban.core.models import AuditEntry
from tongban.licences import demo, services
from tongban.licences.models import Licence

USCC = demo_uscc("511602MA62K3LP0")
FOOD = {"business_form": "餐饮服务经营者", "business_items": "热食类食品制售", "address": "广安区建设路12号"}


@pytest.fixture
def types(db):
    assert demo.load_types() == 9
    assert demo.load_types() == 0


def _food(**kwargs):
    return services.issue(
        SYSTEM,
        "food_business_licence",
        holder_id=kwargs.pop("holder_id", USCC.lower()),
        holder_name="广安区川味小馆",
        fields=kwargs.pop("fields", FOOD),
        **kwargs,
    )


def test_an_issued_licence_verifies_and_shows_only_its_masked_face(types):
    licence = _food(case_number="51160220261122000001")
    result = services.verify(licence.code.lower())
    assert result.ok and result.type_name == "食品经营许可证" and result.issuer == "广安区行政审批局"
    assert result.holder == "广安区川味小馆"
    payload = json.loads(licence.payload)
    assert payload["holder"]["id"] == USCC  # normalised
    assert (
        payload["valid_until"]
        == (
            dt.date.fromisoformat(payload["valid_from"]).replace(
                year=dt.date.fromisoformat(payload["valid_from"]).year + 5
            )
            - dt.timedelta(days=1)
        ).isoformat()
    )
    # The payload holds personal data: stored as ciphertext.
    raw = Licence.objects.filter(pk=licence.pk).values_list("payload", flat=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM licences_licence WHERE id = %s", [licence.pk])
        (stored,) = cursor.fetchone()
    assert "川味小馆" not in stored and list(raw)
    assert AuditEntry.objects.filter(action="licences.licence.issue", object_ref=licence.code).exists()


def test_a_person_licence_masks_the_holder(types):
    licence = services.issue(
        SYSTEM,
        "marriage_certificate",
        holder_id="11010519491231002x",
        holder_name="张三",
        fields={"spouse": "李四", "registered_on": "2020-05-20"},
    )
    result = services.verify(licence.code)
    assert result.ok and result.holder.startswith("张*") and "11010519491231002X" not in result.holder
    assert result.valid_until is None  # valid until revoked


def test_gmssl_verifies_the_signature_over_the_canonical_payload(types):
    licence = _food()
    key = services.public_keys("xzspj")[0]
    checker = gmssl_sm2.CryptSM2(private_key="", public_key=key["public_key"])
    assert checker.verify_with_sm3(licence.signature, licence.payload.encode())


def test_bad_input_names_every_field_and_issues_nothing(types):
    with pytest.raises(InvalidInput) as exc:
        services.issue(
            SYSTEM,
            "food_business_licence",
            holder_id="91511602MA62K3LP0Y",
            holder_name="",
            fields={"business_form": "餐饮", "colour": "red"},
        )
    assert {"holder_id", "holder_name", "fields.business_items", "fields.address", "fields.colour"} <= set(
        exc.value.fields
    )
    with pytest.raises(InvalidInput) as exc:
        services.issue(SYSTEM, "no_such_type", holder_id=USCC, holder_name="x", fields={})
    assert "type" in exc.value.fields
    assert Licence.objects.count() == 0


def test_only_the_issuing_department_may_issue_and_revoke(types):
    section_head = Actor(User.objects.get(username="section_head"))  # 市场监管局, not 行政审批局
    with pytest.raises(NotPermitted):
        services.issue(section_head, "food_business_licence", holder_id=USCC, holder_name="x", fields=FOOD)
    licence = _food()
    with pytest.raises(NotPermitted):
        services.revoke(section_head, licence.code, reason="x")


def test_revoked_expired_unknown_and_tampered_are_reported_as_such(types):
    revoked = _food()
    services.revoke(SYSTEM, revoked.code, reason="经营场所已注销")
    result = services.verify(revoked.code)
    assert result.status == "revoked" and "经营场所已注销" in result.reason
    with pytest.raises(InvalidInput):
        services.revoke(SYSTEM, revoked.code, reason="again")

    old = _food(valid_from=dt.date(2018, 1, 1))
    assert services.verify(old.code).status == "expired"
    assert services.verify("NOPE-NOPE-NOPE-NOPE").status == "unknown"

    tampered = _food()
    payload = json.loads(tampered.payload)
    payload["fields"]["business_items"] = "热食类食品制售；生食类食品制售"
    Licence.objects.filter(pk=tampered.pk).update(payload=services.canonical(payload).decode())
    assert services.verify(tampered.code).status == "tampered"
    forged = _food()
    Licence.objects.filter(pk=forged.pk).update(signature="00" * 64)
    assert services.verify(forged.code).status == "tampered"


def test_rotation_keeps_old_licences_valid_and_signs_new_ones_with_the_new_key(types):
    before = _food()
    admin = Actor(User.objects.get(username="admin"))
    new_key = services.rotate_key(admin, "xzspj")
    after = _food()
    assert before.key.key_id != new_key.key_id == after.key.key_id
    assert services.verify(before.code).ok and services.verify(after.code).ok
    statuses = {k["key_id"]: k["status"] for k in services.public_keys("xzspj")}
    assert statuses == {before.key.key_id: "retired", new_key.key_id: "active"}
    with pytest.raises(NotPermitted):
        services.rotate_key(Actor(User.objects.get(username="clerk")), "xzspj")


def test_the_public_api_verifies_without_a_login_and_publishes_the_keys(types, client):
    licence = _food()
    body = client.get(f"/api/v1/verify/{licence.code}").json()
    assert (body["status"], body["type_name"], body["code"]) == ("valid", "食品经营许可证", licence.code)
    assert client.get("/api/v1/verify/NOPE").json()["status"] == "unknown"
    keys = client.get("/api/v1/licences/keys", {"department": "xzspj"}).json()
    assert [k["key_id"] for k in keys] == [licence.key.key_id]
    assert "private" not in json.dumps(keys)


def test_the_public_page_shows_the_outcome_in_chinese_without_a_login(types, client):
    licence = _food()
    page = client.get(f"/verify/{licence.code}")
    html = page.content.decode()
    assert page.status_code == 200 and 'data-status="valid"' in html
    assert "签名完好，证照有效" in html and "食品经营许可证" in html and "广安区川味小馆" in html
    typed = client.get("/verify/", {"code": licence.code.lower()})
    assert typed.status_code == 302 and typed["Location"].endswith(f"/verify/{licence.code.lower()}")
    services.revoke(SYSTEM, licence.code, reason="经营场所已注销")
    assert 'data-status="revoked"' in client.get(f"/verify/{licence.code}").content.decode()
    missing = client.get("/verify/NOPE-NOPE")
    assert missing.status_code == 404 and 'data-status="unknown"' in missing.content.decode()
