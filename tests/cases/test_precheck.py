"""智能预审: scans drawn from the generated test set are read by OCR, their fields extracted and
compared with the application; the findings reach the case pages, the API and the 秒批 checks.

OCR takes most of a second per page, so each drawn scan is read once per test session
(`reading`) and the service tests reuse the same few scans.
"""

import datetime as dt
import functools
import io

import pytest

from tongban.accounts.models import Person
from tongban.cases import ocr, precheck, services, verification
from tongban.cases import precheck_samples as samples
from tongban.cases.models import MaterialPrecheck, PrecheckStatus
from tongban.catalog import services as catalog
from tongban.core import events
from tongban.core.authz import SYSTEM
from tongban.core.errors import NotFound
from tongban.core.identifiers import id_check_char
from tongban.core.models import AuditEntry

from .test_lifecycle import FIELDS, _actor, _data, _no_longer_an_agent

TODAY = dt.date(2026, 6, 1)


@functools.cache
def drawn(kind: str, seed: int = 7, **overrides):
    return samples.draw(kind, seed, today=TODAY, **dict(overrides))


@functools.cache
def valid_card_seed() -> int:
    """A seed whose ID card stays valid for years (some drawn cards are expired on purpose)."""
    return next(
        s for s in range(1, 100) if (drawn("id_card", s).truth.fields["valid_until"] > dt.date(2031, 1, 1))
    )


@functools.cache
def reading(kind: str, seed: int = 7):
    sample = drawn(kind, seed)
    return ocr.read(sample.image, sample.file_kind)


def _extracted(kind, seed=7):
    r = reading(kind, seed)
    return precheck.extract([line.text for line in r.lines], r.seal)


# --- reading and extracting ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", samples.KINDS)
def test_each_kind_of_scan_is_recognised_and_its_fields_read(kind):
    truth = drawn(kind).truth
    found = _extracted(kind)
    assert found.kind == kind
    for name in precheck.KIND_FIELDS[kind]:
        expected = truth.fields[name]
        got = found.fields.get(name, False if name == "seal" else None)
        if name == "valid_until" and expected is None:
            expected = "长期"
        assert got == expected, (name, got, expected)


def test_a_scan_of_another_document_is_the_wrong_type_and_nothing_else_is_judged():
    found = _extracted("business_licence")
    findings = precheck.compare(found, "id_card", precheck.Facts(today=TODAY))
    assert findings == [
        {
            "field": "kind",
            "outcome": "wrong_kind",
            "read": "business_licence",
            "expected": "id_card",
            "source": "",
        }
    ]


def test_an_expired_id_card_is_flagged_and_a_valid_one_matches():
    seed = valid_card_seed()
    card = drawn("id_card", seed)
    facts = precheck.Facts(
        names={card.truth.fields["name"]}, id_numbers={card.truth.fields["id_number"]}, today=TODAY
    )
    findings = {f["field"]: f for f in precheck.compare(_extracted("id_card", seed), "id_card", facts)}
    assert findings["name"]["outcome"] == findings["id_number"]["outcome"] == "match"
    assert findings["valid_until"]["outcome"] == "match"
    later = precheck.Facts(names=facts.names, id_numbers=facts.id_numbers, today=dt.date(2099, 1, 1))
    findings = {f["field"]: f for f in precheck.compare(_extracted("id_card", seed), "id_card", later)}
    assert findings["valid_until"]["outcome"] == "expired"
    assert precheck.outcome_of(list(findings.values())) == "expired"


def test_id_numbers_are_taken_only_when_their_check_character_holds():
    good = "511602198503121334"
    assert precheck.find_id_numbers(f"公民身份号码{good}") == ([good], False)
    # OCR read the zeros as letter O: the swap back gives a number whose check character holds.
    assert precheck.find_id_numbers("公民身份号码5116O2198503121334") == ([good], False)
    # One digit wrong: something number-shaped was seen, but it is no ID number (unreadable).
    assert precheck.find_id_numbers("公民身份号码511602198503121335") == ([], True)
    assert precheck.find_uscc("统一社会信用代码91511602MA62K3LPOX")[0] in ([], ["91511602MA62K3LP0X"])


def test_material_names_say_which_document_they_are():
    assert precheck.material_kind("申请人身份证") == "id_card"
    assert precheck.material_kind("居民户口簿") == "household_register"
    assert precheck.material_kind("营业执照副本") == "business_licence"
    assert precheck.material_kind("不动产权证书或房产证") == "property_certificate"
    assert precheck.material_kind("设立登记申请书") == "application_form"
    assert precheck.material_kind("平面图") is None


def test_a_seal_is_a_red_circle_not_a_red_frame():
    with_seal = next(s for s in range(7, 30) if drawn("business_licence", s).truth.fields["seal"])
    without = next(s for s in range(7, 30) if not drawn("business_licence", s).truth.fields["seal"])
    for seed, expected in ((with_seal, True), (without, False)):
        sample = drawn("business_licence", seed)
        (page,) = ocr.image_pages(sample.image, sample.file_kind)
        assert ocr.find_seal(page) is expected


# --- bad bytes ------------------------------------------------------------------------------------


def _png_header(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_and_broken_bytes_are_unreadable_not_errors():
    with pytest.raises(ocr.Unreadable) as bomb:
        ocr.read(_png_header(50_000, 50_000), "png")  # 2.5 billion pixels declared in 60 bytes
    assert bomb.value.code == "too_large"
    with pytest.raises(ocr.Unreadable) as broken:
        ocr.read(drawn("id_card").image[:400], "jpeg")
    assert broken.value.code == "damaged"
    with pytest.raises(ocr.Unreadable) as not_pdf:
        ocr.read(b"%PDF-1.4\n garbage", "pdf")
    assert not_pdf.value.code in ("damaged", "empty")


def test_a_pdf_scan_is_rendered_and_read():
    from PIL import Image

    sample = drawn("household_register")
    out = io.BytesIO()
    Image.open(io.BytesIO(sample.image)).convert("RGB").save(out, "PDF", resolution=150)
    r = ocr.read(out.getvalue(), "pdf")
    found = precheck.extract([line.text for line in r.lines], r.seal)
    assert len(r.pages) == 1
    assert (found.kind, found.fields.get("id_number")) == (
        "household_register",
        sample.truth.fields["id_number"],
    )


# --- the service: a case's uploads read after commit ------------------------------------------------


def _item_with_id_card(code="OCR-ITEM"):
    catalog.create_item(
        SYSTEM,
        code=code,
        department_code="scjgj-spjyk",
        name="预审测试许可",
        item_type="licensing",
        statutory_limit_days=20,
        promised_limit_days=5,
        form_fields=FIELDS,
        materials=[
            {"name": "申请人身份证"},
            {"name": "营业执照"},
            {"name": "平面图", "required": False, "core": False},
        ],
    )
    catalog.publish_item(SYSTEM, code)
    return code


def _scan(sample):
    return (f"{sample.name}.{'png' if sample.file_kind == 'png' else 'jpg'}", sample.image)


def _zhangsan_card(**changes):
    person = Person.objects.get(user__username="zhangsan")
    fields = {"name": person.name, "id_number": person.id_number, **changes}
    return drawn("id_card", valid_card_seed(), **fields)


def _apply(captured, files):
    code = _item_with_id_card()
    with captured(execute=True):
        case = services.apply_online(_actor("zhangsan"), item_code=code, data=_data(), files=files)
    return case


def test_an_id_card_of_someone_else_is_flagged_as_a_mismatch(db, django_capture_on_commit_callbacks):
    other = "11010519900101123" + id_check_char("11010519900101123")
    case = _apply(
        django_capture_on_commit_callbacks, {"申请人身份证": _scan(_zhangsan_card(id_number=other))}
    )
    row = MaterialPrecheck.objects.get(case=case)
    assert (row.status, row.expected_kind, row.found_kind, row.outcome) == (
        PrecheckStatus.DONE,
        "id_card",
        "id_card",
        "mismatch",
    )
    by_field = {f["field"]: f for f in row.findings}
    assert by_field["name"]["outcome"] == "match"
    assert by_field["id_number"]["outcome"] == "mismatch"
    assert other not in str(row.findings)  # stored masked
    assert by_field["id_number"]["read"].startswith("110105") and "*" in by_field["id_number"]["read"]
    (event,) = [
        e
        for e in events.stream(subject_kind="case", subject_ids=[case.number])
        if e.activity == "case.material_prechecked"
    ]
    assert event.detail["outcome"] == "mismatch"
    assert {"field": "id_number", "outcome": "mismatch"} in event.detail["problems"]
    assert AuditEntry.objects.filter(action="cases.material.precheck", object_ref=case.number).exists()
    # 秒批 rules see it as a failed check.
    assert verification.run(case, None, names={"materials_prechecked"}) == {"materials_prechecked": False}


def test_the_applicants_own_card_matches_and_the_wrong_document_is_caught(
    db, django_capture_on_commit_callbacks
):
    files = {"申请人身份证": _scan(_zhangsan_card()), "营业执照": _scan(drawn("property_certificate"))}
    case = _apply(django_capture_on_commit_callbacks, files)
    rows = {r.material.name: r for r in MaterialPrecheck.objects.filter(case=case).select_related("material")}
    assert rows["申请人身份证"].outcome == "match"
    assert rows["营业执照"].outcome == "wrong_kind"
    assert rows["营业执照"].found_kind == "property_certificate"
    views = services.prechecks.prechecks(_actor("clerk"), case.number)
    assert [v.material for v in views] == ["申请人身份证", "营业执照"]
    _no_longer_an_agent("lisi")
    with pytest.raises(NotFound):
        services.prechecks.prechecks(_actor("lisi"), case.number)


def test_a_broken_upload_is_recorded_as_unreadable(db, django_capture_on_commit_callbacks, monkeypatch):
    # A scan that passed the upload checks but does not decode (truncated after the header check).
    def broken(data, kind):
        raise ocr.Unreadable("damaged")

    monkeypatch.setattr(ocr, "image_pages", broken)
    case = _apply(django_capture_on_commit_callbacks, {"申请人身份证": _scan(_zhangsan_card())})
    row = MaterialPrecheck.objects.get(case=case)
    assert (row.status, row.outcome, row.error) == (PrecheckStatus.FAILED, "unreadable", "damaged")


# --- pages and API --------------------------------------------------------------------------------


def test_the_clerk_the_applicant_and_the_api_see_the_mismatch(db, django_capture_on_commit_callbacks, client):
    from django.conf import settings

    from tests.conftest import totp_for

    other = "11010519900101123" + id_check_char("11010519900101123")
    scan = _scan(_zhangsan_card(id_number=other))
    case = _apply(django_capture_on_commit_callbacks, {"申请人身份证": scan})
    # The applicant's own page, before anyone has looked at the case.
    client.post("/accounts/login", {"username": "zhangsan", "password": settings.TONGBAN_DEMO_PASSWORD})
    page = client.get(f"/my/cases/{case.number}/").content.decode()
    assert 'data-testid="prechecks"' in page and "身份证号码" in page and "不一致" in page
    assert other not in page
    answer = client.get(f"/api/v1/cases/{case.number}/prechecks").json()
    (found,) = answer["prechecks"]
    assert (found["material"], found["outcome"]) == ("申请人身份证", "mismatch")
    assert {"id_number": "mismatch"}.items() <= {f["field"]: f["outcome"] for f in found["findings"]}.items()
    assert answer["pending"] == []
    client.post("/accounts/logout")
    # The clerk at the window, on the application waiting to be accepted.
    client.post("/accounts/login", {"username": "clerk", "password": settings.TONGBAN_DEMO_PASSWORD})
    client.post("/accounts/mfa/verify", {"otp_token": totp_for("clerk")})
    page = client.get(f"/window/cases/{case.number}/").content.decode()
    assert 'data-outcome="mismatch"' in page and 'data-field="id_number"' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get(f"/window/cases/{case.number}/").content.decode()
    assert "ID number: <strong>does not match</strong>" in english


def test_uploads_waiting_to_be_read_are_shown_as_such(db, client):
    from django.conf import settings

    code = _item_with_id_card()
    case = services.apply_online(
        _actor("zhangsan"), item_code=code, data=_data(), files={"申请人身份证": _scan(_zhangsan_card())}
    )  # the job is queued after commit, which this test never reaches
    client.post("/accounts/login", {"username": "zhangsan", "password": settings.TONGBAN_DEMO_PASSWORD})
    page = client.get(f"/my/cases/{case.number}/").content.decode()
    assert 'data-testid="precheck-pending"' in page and "申请人身份证" in page
    assert client.get(f"/api/v1/cases/{case.number}/prechecks").json() == {
        "prechecks": [],
        "pending": ["申请人身份证"],
    }


# --- the command ------------------------------------------------------------------------------------


def test_the_evaluate_and_read_commands(tmp_path):
    from typer.testing import CliRunner

    from tongban.cli.main import app

    runner = CliRunner()
    result = runner.invoke(
        app, ["precheck", "evaluate", "--count", "5", "--out", str(tmp_path)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "field accuracy:" in result.output and "wrong document detected:" in result.output
    assert len(list(tmp_path.glob("*.jpg")) + list(tmp_path.glob("*.png"))) == 5
    scan = sorted(tmp_path.glob("business_licence-*"))[0]
    result = runner.invoke(
        app, ["precheck", "read", str(scan), "--expected", "id_card"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "kind: business_licence" in result.output and "kind: wrong_kind" in result.output
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    result = runner.invoke(app, ["precheck", "read", str(broken)])
    assert result.exit_code == 1 and "unreadable" in result.output


# --- 秒批 rules that read the pre-check -----------------------------------------------------------

PRECHECK_TABLE = {
    "name": "预审通过即秒批",
    "hit_policy": "FIRST",
    "inputs": [{"key": "check.materials_prechecked", "label": "智能预审", "type": "boolean"}],
    "outputs": [{"key": "decision", "label": "结论", "type": "string"}],
    "rules": [
        {"id": "r1", "when": ["true"], "then": ["approve"]},
        {"id": "r2", "when": ["-"], "then": ["manual"]},
    ],
}


def _auto_item(code="OCR-AUTO"):
    catalog.create_item(
        SYSTEM,
        code=code,
        department_code="scjgj-spjyk",
        name="预审秒批测试",
        item_type="licensing",
        statutory_limit_days=20,
        promised_limit_days=3,
        auto_approvable=True,
        form_fields=FIELDS,
        materials=[{"name": "申请人身份证"}],
    )
    catalog.publish_item(SYSTEM, code)
    services.tables.save_draft(_actor("admin"), code, table=PRECHECK_TABLE)
    services.tables.publish(_actor("admin"), code)
    return code


def test_auto_approval_waits_for_the_precheck_and_uses_it(db, django_capture_on_commit_callbacks):
    from tongban.cases.models import Case, CaseStatus

    code = _auto_item()
    with django_capture_on_commit_callbacks(execute=True):
        case = services.apply_online(
            _actor("zhangsan"), item_code=code, data=_data(), files={"申请人身份证": _scan(_zhangsan_card())}
        )
        # Before the scan is read, the rules have not run: they would not know the answer.
        assert case.status == CaseStatus.SUBMITTED and case.decision_basis["kind"] == "awaiting_precheck"
    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.decision_basis["kind"]) == (CaseStatus.ISSUED, "rule")
    assert case.decision_basis["rule"] == "r1"

    other = "11010519900101123" + id_check_char("11010519900101123")
    with django_capture_on_commit_callbacks(execute=True):
        flagged = services.apply_online(
            _actor("zhangsan"),
            item_code=code,
            data=_data(),
            files={"申请人身份证": _scan(_zhangsan_card(id_number=other))},
        )
    flagged = Case.objects.get(pk=flagged.pk)
    assert flagged.status == CaseStatus.SUBMITTED  # left to the window, with the failed check named
    assert flagged.decision_basis["kind"] == "rules_failed"
    assert "check.materials_prechecked" in str(flagged.decision_basis["failed"])
