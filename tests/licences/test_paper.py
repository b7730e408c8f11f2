"""A licence on paper: PNG and PDF whose QR verifies offline against the published keys, read back
from the image or the PDF, at a clerk's scanner, through the API and with `tongban licence verify`."""

import base64
import datetime as dt
import json
import zlib

import pytest
from typer.testing import CliRunner

from tongban.accounts.seed import ENTERPRISES, demo_uscc
from tongban.cli.main import app
from tongban.core.authz import SYSTEM
from tongban.core.models import AuditEntry
from tongban.licences import demo, render, services
from tongban.licences.models import Licence

RESTAURANT = demo_uscc(ENTERPRISES[0][0])


@pytest.fixture
def held(db):
    demo.load_types()
    demo.load_licences()


def _business():
    return Licence.objects.get(licence_type__code="business_licence", holder_index=RESTAURANT)


def _keys():
    return render.key_table(services.public_keys())


def _tamper(text: str, change) -> str:
    prefix, payload, signature = render.token_of(text).split(".")
    data = json.loads(zlib.decompress(base64.urlsafe_b64decode(payload + "==")))
    change(data)
    raw = services.canonical(data)
    return f"{prefix}.{base64.urlsafe_b64encode(zlib.compress(raw)).rstrip(b'=').decode()}.{signature}"


def test_the_png_and_pdf_carry_a_qr_that_reads_back_and_verifies_offline(held):
    licence = _business()
    text = render.qr_text(licence)
    png, pdf = render.licence_png(licence), render.licence_pdf(licence)
    assert png.startswith(b"\x89PNG") and pdf.startswith(b"%PDF")
    assert render.read_qr(png) == text
    assert render.read_qr(pdf) == text
    assert render.licence_pdf(licence) == pdf  # deterministic: the same licence, the same bytes
    result = render.verify_offline(text, _keys())
    assert result.ok and result.code == licence.code and result.holder == ENTERPRISES[0][1]


def test_the_qr_opens_our_verification_page_on_any_phone(held, client, settings):
    """Issue 12, defect 8: the QR held a bare token that a phone camera or WeChat shows as gibberish."""
    settings.TONGBAN_PUBLIC_URL = "https://zwfw.example.gov.cn/"
    licence = _business()
    text = render.qr_text(licence)
    assert text.startswith("https://zwfw.example.gov.cn/verify/qr?t=TBL1.")
    assert render.verify_offline(text, _keys()).ok  # our tools still verify it with no network
    page = client.get(text.removeprefix("https://zwfw.example.gov.cn"))
    assert page.status_code == 200
    assert 'data-status="valid"' in page.content.decode() and licence.code in page.content.decode()
    forged = _tamper(text, lambda d: d.update(valid_until="2099-12-31"))
    assert 'data-status="tampered"' in client.get("/verify/qr", {"t": forged}).content.decode()
    assert client.get("/verify/qr", {"t": "garbage"}).status_code == 200
    assert client.get("/verify/qr", {"t": "\x00garbage"}).status_code == 400  # NUL: refused by core.edge


def test_the_licence_image_wraps_long_values_and_names_its_issuer_once(held):
    licence = _business()
    _data, rows = render._face(licence)
    assert [label for label, _value in rows].count("签发机关") == 1
    long_address = render._wrap("广安区" + "很长的地址" * 40, len, 60)
    assert len(long_address) > 1 and "".join(long_address) == "广安区" + "很长的地址" * 40


def test_offline_verification_names_what_is_wrong(held):
    licence = _business()
    text = render.qr_text(licence)
    keys = _keys()
    widened = _tamper(text, lambda d: d["fields"].update(scope="餐饮服务；食品销售；烟草零售"))
    assert render.verify_offline(widened, keys).status == "tampered"
    assert render.verify_offline(text, {}).status == "unknown_key"
    assert render.verify_offline("TBL1.!!.!!", keys).status == "unreadable"
    assert render.verify_offline("https://example.com/", keys).status == "unreadable"
    assert render.verify_offline(text[:-4] + "AAAA", keys).status == "tampered"
    food = Licence.objects.get(licence_type__code="food_business_licence")
    later = dt.date.fromisoformat(json.loads(food.payload)["valid_until"]) + dt.timedelta(days=1)
    assert render.verify_offline(render.qr_text(food), keys, today=later).status == "expired"
    # A person's licence shows only a masked face.
    card = Licence.objects.filter(licence_type__code="marriage_certificate").get()
    face = render.verify_offline(render.qr_text(card), keys)
    assert face.ok and "*" in face.holder and "张三" not in face.holder


def test_a_rotated_key_still_verifies_what_it_signed(held):
    licence = _business()
    old_key = licence.key.key_id
    services.rotate_key(SYSTEM, licence.licence_type.department.code)
    keys = _keys()
    assert render.verify_offline(render.qr_text(licence), keys).ok
    new = services.issue(
        SYSTEM,
        "business_licence",
        holder_id=demo_uscc(ENTERPRISES[1][0]),
        holder_name=ENTERPRISES[1][1],
        fields={"legal_representative": "李四", "address": "广安区", "scope": "建材零售"},
    )
    assert new.key.key_id != old_key and render.verify_offline(render.qr_text(new), keys).ok


def test_a_scan_adds_revocation_which_paper_cannot_know(held):
    food = Licence.objects.get(licence_type__code="food_business_licence")  # revoked in the demo
    result = services.scan_upload(None, "licence.png", render.licence_png(food))
    assert result.offline.status == "valid" and result.online.status == "revoked"
    assert result.status == "revoked" and "依法撤销" in result.reason  # the revocation's own reason
    assert services.scan_text(None, "").status == "unreadable"


def test_the_scan_page_and_api(held, client):
    licence = _business()
    page = client.post("/verify/scan/", {"text": render.qr_text(licence)})
    assert page.status_code == 200 and b'data-status="valid"' in page.content
    assert AuditEntry.objects.filter(action="licences.licence.scan", object_ref=licence.code).exists()
    upload = client.post("/verify/scan/", {"file": _file("licence.pdf", render.licence_pdf(licence))})
    assert b'data-status="valid"' in upload.content
    tampered = _tamper(render.qr_text(licence), lambda d: d["holder"].update(name="冒名公司"))
    assert b'data-status="tampered"' in client.post("/verify/scan/", {"text": tampered}).content
    api = client.post("/api/v1/licences/scan", {"text": tampered}, content_type="application/json")
    assert api.status_code == 200 and api.json()["status"] == "tampered"
    ok = client.post(
        "/api/v1/licences/scan", {"text": render.qr_text(licence)}, content_type="application/json"
    )
    assert ok.json()["status"] == "valid" and ok.json()["online_status"] == "valid"
    too_long = client.post("/api/v1/licences/scan", {"text": "x" * 5000}, content_type="application/json")
    assert too_long.status_code == 422


def _file(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_the_wallet_page_and_downloads_are_the_holders_alone(held, citizen_client, client):
    citizen_client("zhangsan")
    page = client.get("/me/licences/")
    assert page.status_code == 200
    assert page.content.count(b'data-testid="wallet-licence"') == 4
    code = Licence.objects.get(licence_type__code="marriage_certificate").code
    png = client.get(f"/me/licences/{code}.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert render.read_qr(png.content) == render.qr_text(Licence.objects.get(code=code))
    assert client.get(f"/me/licences/{code}.pdf")["Content-Type"] == "application/pdf"
    client.logout()
    assert client.get(f"/me/licences/{code}.png").status_code == 302  # to the login
    citizen_client("lisi")
    assert client.get(f"/me/licences/{code}.png").status_code == 404


def test_the_cli_verifies_files_with_or_without_the_database(held, tmp_path):
    runner = CliRunner()
    licence = _business()
    png = tmp_path / "licence.png"
    png.write_bytes(render.licence_png(licence))
    ok = runner.invoke(app, ["licence", "verify", str(png)], env={"COLUMNS": "200"})
    assert ok.exit_code == 0, ok.output
    assert "VALID" in ok.output and licence.code in ok.output
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(services.public_keys(), default=str))
    offline = runner.invoke(app, ["licence", "verify", str(png), "--keys", str(keys)], env={"COLUMNS": "200"})
    assert offline.exit_code == 0, offline.output
    forged = tmp_path / "forged.txt"
    forged.write_text(_tamper(render.qr_text(licence), lambda d: d.update(valid_until="2099-12-31")))
    bad = runner.invoke(app, ["licence", "verify", str(forged)], env={"COLUMNS": "200"})
    assert bad.exit_code == 1 and "TAMPERED" in bad.output
    revoked = tmp_path / "revoked.pdf"
    revoked.write_bytes(render.licence_pdf(Licence.objects.get(licence_type__code="food_business_licence")))
    assert runner.invoke(app, ["licence", "verify", str(revoked)]).exit_code == 1
    assert runner.invoke(app, ["licence", "verify", str(tmp_path / "missing.png")]).exit_code == 2


def test_a_departments_licences_are_imported_all_or_nothing(held, tmp_path):
    from tongban.core.errors import InvalidInput

    header = "holder_id,holder_name,valid_from,legal_representative,address,scope,founded\n"
    good = tmp_path / "good.csv"
    good.write_text(
        header
        + f"{demo_uscc('511602MA62K3L01')},广安区老街面馆,2020-05-01,李四,广安区老街1号,餐饮服务,2020-05-01\n"
        + f"{demo_uscc('511602MA62K3L02').lower()},广安区渠江鱼庄,,王五,广安区渠江路2号,餐饮服务,\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    done = runner.invoke(app, ["licence", "import", "business_licence", str(good)], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert Licence.objects.filter(licence_type__code="business_licence").count() == 4  # 2 demo + 2
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "91510000XXXXXXXXXX,某公司,2020-13-01,,,,\n", encoding="utf-8")
    refused = runner.invoke(app, ["licence", "import", "business_licence", str(bad)], env={"COLUMNS": "200"})
    assert (
        refused.exit_code == 1
        and "rows.1.holder_id" in refused.output
        and "rows.1.valid_from" in refused.output
    )
    assert Licence.objects.filter(licence_type__code="business_licence").count() == 4
    with pytest.raises(InvalidInput) as nothing:
        services.import_licences(SYSTEM, "business_licence", [])
    assert "file" in nothing.value.fields


def test_other_systems_issue_a_licence_through_the_api(held, client):
    from tongban.accounts import services as accounts

    accounts.create_staff(
        SYSTEM,
        username="sys-xzsp",
        display_name="审批系统",
        department_code="xzspj",
        kind="system",
        roles=[("section_head", True)],
    )
    raw, _t = accounts.create_api_token(SYSTEM, username="sys-xzsp", name="issue", days=30)
    body = {
        "type": "food_business_licence",
        "holder_id": RESTAURANT,
        "holder_name": ENTERPRISES[0][1],
        "fields": {"business_form": "餐饮服务经营者", "business_items": "热食类", "address": "广安区"},
    }
    made = client.post(
        "/api/v1/licences", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert made.status_code == 201 and services.verify(made.json()["code"]).ok
    refused = client.post(
        "/api/v1/licences",
        {**body, "fields": {}},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert refused.status_code == 422 and "fields.business_form" in refused.json()["error"]["fields"]


@pytest.mark.parametrize("head", ["section_head", "division_head", "bureau_head"])
def test_heads_download_their_departments_licences_and_no_one_elses(held, staff_client, client, head):
    """科长/处长/局长 may issue in 市场监管局 (the division and bureau heads over its sub-tree), so they
    may download what it signed, as PNG and as PDF; another bureau's licence does not exist for them."""
    from tongban.accounts.models import Department
    from tongban.licences.models import HolderKind, LicenceType

    LicenceType.objects.create(
        code="food_safety_record",
        name="食品小作坊登记证",
        holder_kind=HolderKind.ENTERPRISE,
        department=Department.objects.get(code="scjgj-spjyk"),
        fields=[{"key": "address", "label": "地址", "type": "text", "required": True}],
    )
    ours = services.issue(
        SYSTEM,
        "food_safety_record",
        holder_id=RESTAURANT,
        holder_name=ENTERPRISES[0][1],
        fields={"address": "广安区"},
    )
    staff_client(head)
    png = client.get(f"/me/licences/{ours.code}.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert render.read_qr(png.content) == render.qr_text(ours)
    pdf = client.get(f"/me/licences/{ours.code}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert render.read_qr(pdf.content) == render.qr_text(ours)
    assert AuditEntry.objects.filter(action="licences.licence.download", object_ref=ours.code).count() == 2
    assert client.get(f"/me/licences/{_business().code}.png").status_code == 404  # 行政审批局 signed it
