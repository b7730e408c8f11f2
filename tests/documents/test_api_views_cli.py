"""The same use cases through the API, the verification page and `tongban document verify`."""

import io

import pytest
from django.conf import settings
from django.test import Client
from typer.testing import CliRunner

from tongban.cli.main import app
from tongban.documents import services
from tongban.documents.models import Document

from ..conftest import actor, totp_for
from .conftest import make_draft

pytestmark = pytest.mark.django_db


def logged_in(username: str) -> tuple[Client, dict]:
    client = Client()
    login = {"username": username, "password": settings.TONGBAN_DEMO_PASSWORD}
    assert client.post("/accounts/login", login).status_code == 302
    assert client.post("/accounts/mfa/verify", {"otp_token": totp_for(username)}).status_code == 302
    return client, {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


@pytest.fixture
def sealed(db):
    services.create_seal(actor("admin"), agency_code="scjgj", code="scjgj-gwz", holders=["bureau_head"])
    head = actor("bureau_head")
    document = services.sign(head, make_draft().ref)
    return services.seal_document(head, document.ref, seal_code="scjgj-gwz")


def test_draft_sign_and_seal_through_the_api_with_field_errors_in_both_languages(db):
    services.create_seal(actor("admin"), agency_code="scjgj", code="scjgj-gwz", holders=["bureau_head"])
    drafter, d_csrf = logged_in("reviewer")
    bad = drafter.post(
        "/api/v1/documents",
        {"doc_type": "memo", "title": "", "body": "x", "classification": ""},
        content_type="application/json",
        **d_csrf,
    )
    assert bad.status_code == 422
    fields = bad.json()["error"]["fields"]
    assert {"doc_type", "title"} <= set(fields) and set(fields["title"][0]["message"]) == {"zh-Hans", "en"}
    secret = drafter.post(
        "/api/v1/documents",
        {
            "doc_type": "notice",
            "title": "通知",
            "body": "正文",
            "main_recipients": "各科室：",
            "classification": "机密",
        },
        content_type="application/json",
        **d_csrf,
    )
    assert secret.status_code == 422
    assert "涉密" in secret.json()["error"]["fields"]["classification"][0]["message"]["zh-Hans"]
    created = drafter.post(
        "/api/v1/documents",
        {
            "doc_type": "notice",
            "title": "关于开展安全检查的通知",
            "body": "请各科室开展检查。",
            "main_recipients": "各科室：",
        },
        content_type="application/json",
        **d_csrf,
    )
    assert created.status_code == 201, created.content
    ref = created.json()["ref"]
    assert drafter.post(f"/api/v1/documents/{ref}/sign", **d_csrf).status_code == 403
    head, h_csrf = logged_in("bureau_head")
    signed = head.post(f"/api/v1/documents/{ref}/sign", **h_csrf)
    assert signed.status_code == 200 and signed.json()["number"].startswith("市监局发〔")
    assert head.post(f"/api/v1/documents/{ref}/sign", **h_csrf).status_code == 409
    sealed = head.post(
        f"/api/v1/documents/{ref}/seal", {"seal_code": "scjgj-gwz"}, content_type="application/json", **h_csrf
    )
    assert sealed.status_code == 200 and sealed.json()["status"] == "sealed"
    pdf = drafter.get(f"/api/v1/documents/{ref}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content == services.sealed_pdf(actor("reviewer"), ref)
    other, _ = logged_in("reviewer_rs")
    assert other.get(f"/api/v1/documents/{ref}").status_code == 404
    assert other.get(f"/api/v1/documents/{ref}/pdf").status_code == 404


def test_the_api_verifies_an_uploaded_file_and_catches_one_changed_byte(sealed):
    client, csrf = logged_in("reviewer_rs")
    data = services.sealed_pdf(actor("reviewer"), sealed.ref)
    ok = client.post("/api/v1/documents/verify", {"file": io.BytesIO(data)}, **csrf)
    assert ok.status_code == 200 and ok.json()["valid"] and ok.json()["signer"] == "孙局长"
    changed = bytearray(data)
    changed[len(changed) // 3] ^= 0x20
    bad = client.post("/api/v1/documents/verify", {"file": io.BytesIO(bytes(changed))}, **csrf)
    assert bad.status_code == 200 and not bad.json()["valid"] and bad.json()["status"] == "changed"
    junk = client.post("/api/v1/documents/verify", {"file": io.BytesIO(b"not a pdf")}, **csrf)
    assert junk.status_code == 422 and "file" in junk.json()["error"]["fields"]
    assert Client().post("/api/v1/documents/verify", {"file": io.BytesIO(data)}).status_code == 401


def test_the_verification_page_shows_who_sealed_what_and_when(sealed):
    client, _csrf = logged_in("supervisor")
    data = services.sealed_pdf(actor("reviewer"), sealed.ref)
    page = client.get("/documents/verify")
    assert page.status_code == 200 and "电子签章验证" in page.content.decode()
    shown = client.post("/documents/verify", {"file": io.BytesIO(data)}).content.decode()
    assert 'data-status="valid"' in shown and "孙局长" in shown and sealed.number in shown
    changed = bytearray(data)
    changed[1000] ^= 0x01  # inside the page content, which the hash covers
    changed = bytes(changed)
    shown = client.post("/documents/verify", {"file": io.BytesIO(changed)}).content.decode()
    assert 'data-status="changed"' in shown
    empty = client.post("/documents/verify", {}).content.decode()
    assert 'role="alert"' in empty
    assert Client().get("/documents/verify").status_code == 302  # to the login page


def test_the_cli_verifies_a_file_and_exits_non_zero_after_a_one_byte_change(sealed, tmp_path):
    data = services.sealed_pdf(actor("reviewer"), sealed.ref)
    good, bad = tmp_path / "sealed.pdf", tmp_path / "changed.pdf"
    good.write_bytes(data)
    changed = bytearray(data)
    changed[100] ^= 0x01
    bad.write_bytes(bytes(changed))
    runner = CliRunner()
    result = runner.invoke(app, ["document", "verify", str(good)])
    assert result.exit_code == 0, result.output
    assert "孙局长" in result.output and "scjgj-gwz" in result.output and sealed.number in result.output
    result = runner.invoke(app, ["document", "verify", str(bad)])
    assert result.exit_code == 1
    result = runner.invoke(app, ["document", "verify", str(tmp_path / "missing.pdf")])
    assert result.exit_code == 2
    assert Document.objects.get(pk=sealed.pk).status == "sealed"
