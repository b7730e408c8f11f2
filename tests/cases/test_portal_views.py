"""The citizen's case pages: apply (一表申请), my cases, one case and what to do on it, downloads."""

import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from tests import samples
from tongban.accounts.seed import demo_uscc
from tongban.cases import services
from tongban.cases.models import Case, CaseStatus, MaterialStatus, Rating
from tongban.catalog import services as catalog
from tongban.core.authz import SYSTEM

from .test_handling import _auto_item
from .test_lifecycle import FIELDS, RESTAURANT, _actor, _data, _do, _item, _no_longer_an_agent

PDF = "application/pdf"


def _login(username: str) -> Client:
    """A browser of its own for each person, so two people can be logged in within one test."""
    client = Client()
    response = client.post(
        "/accounts/login", {"username": username, "password": settings.TONGBAN_DEMO_PASSWORD}
    )
    assert response.status_code == 302
    return client


def _staff(username: str) -> Client:
    from tests.conftest import totp_for

    client = _login(username)
    assert client.post("/accounts/mfa/verify", {"otp_token": totp_for(username)}).status_code == 302
    return client


def _file(name="plan.pdf", text="sample") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, samples.pdf(text), content_type=PDF)


def _key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)


def _errors(html: str) -> dict[str, list[str]]:
    """Field name → the error messages shown next to it."""
    found: dict[str, list[str]] = {}
    for name, message in re.findall(r'class="field-error"[^>]*data-field="([^"]+)"[^>]*>([^<]*)<', html):
        found.setdefault(name, []).append(message)
    return found


def _form(**overrides) -> dict:
    values = {f"data.{k}": v for k, v in _data().items()}
    values.update(overrides)
    return values


def _apply(client, code, **overrides) -> Case:
    page = client.get(f"/services/items/{code}/apply").content.decode()
    response = client.post(
        f"/services/items/{code}/apply", {"idempotency_key": _key(page), **_form(**overrides)}
    )
    assert response.status_code == 302, response.content[:2000]
    return Case.objects.get(number=response["Location"].rstrip("/").split("/")[-1])


@pytest.fixture
def code(db):
    return _item()


@pytest.fixture
def zhangsan(db):
    return _login("zhangsan")


# --- apply ---------------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in_first(client, code):
    for url in (f"/services/items/{code}/apply", "/my/cases/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login?next={url}"
    case = services.apply_online(_actor("zhangsan"), item_code=code, data=_data())
    for url in (
        f"/my/cases/{case.number}/",
        f"/my/cases/{case.number}/process.bpmn",
        f"/cases/{case.number}/document.pdf",
    ):
        assert client.get(url)["Location"].startswith("/accounts/login?next=")
    assert client.post(f"/my/cases/{case.number}/withdraw").status_code == 302
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED


def test_the_apply_form_is_built_from_the_items_fields_and_materials(zhangsan, code):
    page = zhangsan.get(f"/services/items/{code}/apply").content.decode()
    for spec in FIELDS:
        assert f'name="data.{spec["key"]}"' in page
    assert page.count('type="file"') == 3
    assert page.count('accept=".pdf,.jpg,.jpeg,.png,.ofd,.docx"') == 3
    assert "管理制度" in page and "容缺" in page  # the non-core material says it may follow
    assert len(_key(page)) >= 24
    # zhangsan represents the restaurant: he may apply for it, or for himself.
    assert f'value="{RESTAURANT}"' in page and 'name="enterprise_uscc"' in page
    assert f'data-uscc="{RESTAURANT}"' in page  # so the form can fill in the enterprise's code
    assert 'name="commitment"' not in page  # this item cannot be approved on a commitment
    # Each rendering gets its own key, so two applications are two cases; a resubmit is one.
    assert _key(zhangsan.get(f"/services/items/{code}/apply").content.decode()) != _key(page)


def test_applying_makes_one_case_and_shows_its_receipt(zhangsan, code):
    page = zhangsan.get(f"/services/items/{code}/apply").content.decode()
    form = {
        "idempotency_key": _key(page),
        "enterprise_uscc": RESTAURANT,
        "files.0": _file("licence.pdf", "licence"),
        "files.1": _file("plan.pdf", "plan"),
        **_form(),
    }
    response = zhangsan.post(f"/services/items/{code}/apply", form)
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/my/cases/{case.number}/"
    assert (case.status, case.channel, case.enterprise.uscc) == (CaseStatus.SUBMITTED, "online", RESTAURANT)
    assert case.data["area"] == 120.0
    provided = dict(case.materials.values_list("name", "status"))
    # What was not uploaded is to be provided (checked at acceptance, or 容缺 later).
    assert provided == {"营业执照": "provided", "平面图": "provided", "管理制度": MaterialStatus.PENDING}
    # A second tap on submit (the same form, the same key) makes no second case.
    form.update({"files.0": _file("licence.pdf"), "files.1": _file("plan.pdf")})
    again = zhangsan.post(f"/services/items/{code}/apply", form)
    assert again["Location"] == response["Location"] and Case.objects.count() == 1
    receipt = zhangsan.get(response["Location"]).content.decode()
    assert 'data-testid="receipt"' in receipt and case.number in receipt
    # The receipt is shown once; the case page stays.
    later = zhangsan.get(response["Location"]).content.decode()
    assert 'data-testid="receipt"' not in later and case.number in later


def test_bad_input_is_shown_next_to_each_field_and_nothing_is_saved(zhangsan, code):
    page = zhangsan.get(f"/services/items/{code}/apply").content.decode()
    response = zhangsan.post(
        f"/services/items/{code}/apply",
        {
            "idempotency_key": _key(page),
            "data.enterprise_name": "",
            "data.uscc": "123",
            "data.area": "很多",
            "files.1": _file(),
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert set(_errors(html)) == {"data.enterprise_name", "data.uscc", "data.area"}
    assert not Case.objects.exists()
    # What was typed stays, and the file chosen is kept (saved with a draft): nobody chooses it twice.
    assert 'value="很多"' in html and 'data-testid="files-lost"' not in html
    assert 'data-testid="kept-file" data-material="平面图"' in html and 'data-testid="draft-banner"' in html
    assert _key(html) == _key(page)  # the same application, still to be made once
    # A file that is not what its name says is refused next to its material.
    fake = SimpleUploadedFile("plan.pdf", b"MZ not a pdf at all", content_type=PDF)
    response = zhangsan.post(
        f"/services/items/{code}/apply", {"idempotency_key": _key(page), "files.1": fake, **_form()}
    )
    assert set(_errors(response.content.decode())) == {"files.1"}
    assert not Case.objects.exists()


def test_an_enterprise_the_citizen_does_not_represent_is_refused_at_the_field(zhangsan, code):
    page = zhangsan.get(f"/services/items/{code}/apply").content.decode()
    other = demo_uscc("511602MA6B7QW1X")  # lisi's trading company: zhangsan does not act for it
    response = zhangsan.post(
        f"/services/items/{code}/apply", {"idempotency_key": _key(page), "enterprise_uscc": other, **_form()}
    )
    assert "enterprise_uscc" in _errors(response.content.decode())
    assert not Case.objects.exists()


def test_staff_cannot_apply_as_citizens(db, code):
    clerk = _staff("clerk")
    assert clerk.get(f"/services/items/{code}/apply").status_code == 403
    assert clerk.get("/services/items/NOPE/apply").status_code == 403
    assert _login("zhangsan").get("/services/items/NOPE/apply").status_code == 404


def test_an_item_that_allows_it_asks_for_the_commitment(zhangsan, db):
    catalog.create_item(
        SYSTEM,
        code="PROMISE-1",
        department_code="scjgj-spjyk",
        name="承诺制测试许可",
        item_type="licensing",
        statutory_limit_days=20,
        promised_limit_days=5,
        commitment_allowed=True,
        form_fields=FIELDS,
        materials=[{"name": "营业执照"}],
    )
    catalog.publish_item(SYSTEM, "PROMISE-1")
    page = zhangsan.get("/services/items/PROMISE-1/apply").content.decode()
    assert 'name="commitment"' in page and str(services.commitment_text()) in page
    case = _apply(zhangsan, "PROMISE-1", commitment="on")
    assert case.by_commitment and case.commitment_signed_at is not None


def test_an_item_without_a_promised_limit_is_applied_for_at_a_window(zhangsan, db):
    catalog.create_item(
        SYSTEM, code="BARE-1", department_code="scjgj", name="只有名称的事项", item_type="licensing"
    )
    catalog.publish_item(SYSTEM, "BARE-1")
    page = zhangsan.get("/services/items/BARE-1/apply").content.decode()
    assert 'data-testid="apply-unavailable"' in page and 'data-testid="apply-form"' not in page
    zhangsan.post("/services/items/BARE-1/apply", {"idempotency_key": "k"})
    assert not Case.objects.exists()


def test_the_guide_links_to_the_apply_page_of_items_handled_online(client, code):
    guide = client.get(f"/services/items/{code}/").content.decode()
    assert f'href="/services/items/{code}/apply"' not in guide  # 线下办理: the guide says where to go
    catalog.update_item(SYSTEM, code, online_level="full_online", visits_required=0)
    catalog.publish_item(SYSTEM, code)
    guide = client.get(f"/services/items/{code}/").content.decode()
    assert f'href="/services/items/{code}/apply"' in guide


def test_an_auto_approved_application_says_so_on_its_receipt(zhangsan, db):
    code = _auto_item()
    page = zhangsan.get(f"/services/items/{code}/apply").content.decode()
    response = zhangsan.post(
        f"/services/items/{code}/apply",
        {"idempotency_key": _key(page), "files.0": _file(), **_form()},
    )
    case = Case.objects.get()
    assert case.status == CaseStatus.ISSUED
    html = zhangsan.get(response["Location"]).content.decode()
    assert 'data-testid="receipt-auto"' in html
    assert f'href="/cases/{case.number}/document.pdf"' in html


# --- bundles -------------------------------------------------------------------------------------------


@pytest.fixture
def bundle(db):
    first = _item(code="BUNDLE-A", department="scjgj-spjyk")
    second = _item(code="BUNDLE-B", department="rsj-shbxk")
    catalog.create_bundle(
        SYSTEM,
        code="VIEW-BUNDLE",
        lead_department_code="xzspj",
        name="页面测试一件事",
        item_codes=[first, second],
        promised_limit_days=3,
        publish=True,
    )
    return "VIEW-BUNDLE"


def test_a_bundle_asks_shared_fields_once_and_makes_one_case(zhangsan, bundle):
    page = zhangsan.get(f"/services/bundles/{bundle}/apply").content.decode()
    assert page.count('name="data.enterprise_name"') == 1
    assert page.count('type="file"') == 3  # the two items' materials, each asked once
    bundle_guide = zhangsan.get(f"/services/bundles/{bundle}/").content.decode()
    assert f'href="/services/bundles/{bundle}/apply"' in bundle_guide
    response = zhangsan.post(f"/services/bundles/{bundle}/apply", {"idempotency_key": _key(page), **_form()})
    case = Case.objects.get()
    assert response["Location"] == f"/my/cases/{case.number}/"
    assert case.bundle_version.bundle.code == bundle and case.item_version is None
    bad = zhangsan.post(f"/services/bundles/{bundle}/apply", {"idempotency_key": "other", "data.uscc": "x"})
    assert {"data.enterprise_name", "data.uscc"} <= set(_errors(bad.content.decode()))
    assert Case.objects.count() == 1


# --- my cases ------------------------------------------------------------------------------------------


def test_my_cases_lists_mine_with_status_and_filters_and_pages(zhangsan, code):
    mine = [services.apply_online(_actor("zhangsan"), item_code=code, data=_data()) for _ in range(21)]
    services.accept(_actor("clerk"), mine[0].number)
    building = {
        **_data(),
        "uscc": demo_uscc("511602MA6B7QW1X"),
        "enterprise_name": "广安示例建材贸易有限公司",
    }
    services.apply_online(_actor("lisi"), item_code=code, data=building)  # lisi's own: not zhangsan's
    first = zhangsan.get("/my/cases/").content.decode()
    assert first.count("data-case=") == 20 and "21" in first  # paged: 20 and a link on
    second = zhangsan.get("/my/cases/?page=2").content.decode()
    assert second.count("data-case=") == 1
    accepted = zhangsan.get("/my/cases/?status=in_progress").content.decode()
    assert re.findall(r'data-case="(\d+)"', accepted) == [mine[0].number]
    assert 'data-colour="green"' in accepted  # the RYG dot, with its words
    assert zhangsan.get("/my/cases/?status=withdrawn").content.decode().count("data-case=") == 0
    lisi_case = Case.objects.get(applicant__user__username="lisi")
    assert lisi_case.number not in first + second


# --- one case ------------------------------------------------------------------------------------------


def test_the_case_page_shows_summary_timeline_materials_and_process(zhangsan, code):
    case = services.apply_online(
        _actor("zhangsan"), item_code=code, data=_data(), files={"平面图": samples.upload("plan.pdf")}
    )
    page = zhangsan.get(f"/my/cases/{case.number}/").content.decode()
    assert case.number in page and 'data-testid="timeline"' in page
    assert 'data-testid="process-diagram"' not in page  # steps are known once accepted
    assert zhangsan.get(f"/my/cases/{case.number}/process.bpmn").status_code == 404
    services.accept(_actor("clerk"), case.number, paper=["营业执照", "管理制度"])
    _do("reviewer", case)
    page = zhangsan.get(f"/my/cases/{case.number}/").content.decode()
    # The applicant reads the guide's steps with dates, not the engine's diagram (that is for staff).
    assert 'data-testid="process-diagram"' not in page
    strip = re.search(r'data-testid="progress-strip">(.*?)</ol>', page, re.S).group(1)
    states = re.findall(r'data-state="(\w+)"', strip)
    assert states[:2] == ["done", "done"] and "current" in states and states[-1] == "todo", states
    assert timezone.localtime(case.submitted_at).strftime("%Y-%m-%d") in strip  # the date people read
    steps = re.search(r'data-testid="timeline">(.*?)</ol>', page, re.S).group(1)
    assert steps.index("审查") > 0  # the finished step is on the timeline, by its name
    xml = zhangsan.get(f"/my/cases/{case.number}/process.bpmn")
    assert xml.status_code == 200 and xml["Content-Type"].startswith("application/xml")
    assert xml["X-Content-Type-Options"] == "nosniff" and b"bpmn:definitions" in xml.content
    plan = case.materials.get(name="平面图")
    assert f'href="/cases/{case.number}/materials/{plan.pk}"' in page
    assert 'data-testid="withdraw"' in page


def test_another_citizen_sees_nothing_of_my_case(zhangsan, code):
    _no_longer_an_agent("lisi")
    case = services.apply_online(
        _actor("zhangsan"), item_code=code, data=_data(), files={"平面图": samples.upload("plan.pdf")}
    )
    services.accept(_actor("clerk"), case.number, paper=["营业执照"], missing=["管理制度"])
    plan = case.materials.get(name="平面图")
    lisi = _login("lisi")
    for url in (
        f"/my/cases/{case.number}/",
        f"/my/cases/{case.number}/process.bpmn",
        f"/my/cases/{case.number}/withdraw",
        f"/cases/{case.number}/materials/{plan.pk}",
        f"/cases/{case.number}/document.pdf",
    ):
        assert lisi.get(url).status_code == 404, url
    for url, data in (
        (f"/my/cases/{case.number}/withdraw", {}),
        (f"/my/cases/{case.number}/rate", {"score": "1", "comment": "x"}),
        (f"/my/cases/{case.number}/supply", {"material": "管理制度", "file": _file()}),
        (f"/my/cases/{case.number}/supplement", {"files.0": _file()}),
    ):
        assert lisi.post(url, data).status_code == 404, url
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    assert case.materials.get(name="管理制度").status == MaterialStatus.MISSING


def test_staff_who_handle_the_case_can_open_it_and_its_files(zhangsan, code):
    case = services.apply_online(
        _actor("zhangsan"), item_code=code, data=_data(), files={"平面图": samples.upload("plan.pdf", "plan")}
    )
    services.accept(_actor("clerk"), case.number, paper=["营业执照", "管理制度"])
    plan = case.materials.get(name="平面图")
    reviewer = _staff("reviewer")
    page = reviewer.get(f"/my/cases/{case.number}/").content.decode()
    assert case.number in page and 'data-testid="withdraw"' not in page  # only the applicant withdraws
    download = reviewer.get(f"/cases/{case.number}/materials/{plan.pk}")
    assert download.status_code == 200 and download.content == samples.pdf("plan")
    assert _staff("reviewer_rs").get(f"/cases/{case.number}/materials/{plan.pk}").status_code == 404


def test_a_material_downloads_as_an_attachment(zhangsan, code):
    case = services.apply_online(
        _actor("zhangsan"), item_code=code, data=_data(), files={"平面图": samples.upload("平面图.pdf", "p")}
    )
    plan = case.materials.get(name="平面图")
    response = zhangsan.get(f"/cases/{case.number}/materials/{plan.pk}")
    assert response.status_code == 200 and response.content == samples.pdf("p")
    assert response["Content-Type"] == PDF and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E5%B9%B3%E9%9D%A2%E5%9B%BE.pdf" in response["Content-Disposition"]
    assert zhangsan.get(f"/cases/{case.number}/materials/{plan.pk + 1000}").status_code == 404
    assert zhangsan.get(f"/cases/{case.number}/document.pdf").status_code == 404  # not issued yet


# --- 补正 and 容缺 ----------------------------------------------------------------------------------------


def _supplement_requested(code):
    case = services.apply_online(_actor("zhangsan"), item_code=code, data=_data())
    services.accept(_actor("clerk"), case.number, paper=["营业执照", "平面图", "管理制度"])
    (step,) = services.open_work(_actor("reviewer"), case.number)
    services.claim_work(_actor("reviewer"), step.public_id)
    services.request_supplement(
        _actor("reviewer"),
        case.number,
        items=[
            {"material": "平面图", "reason": "比例尺不清"},
            {"material": "消防验收意见", "reason": "缺少"},
        ],
        note="请一次补齐",
        work_id=step.public_id,
    )
    return case


def test_the_applicant_answers_a_supplement_request(zhangsan, code):
    case = _supplement_requested(code)
    page = zhangsan.get(f"/my/cases/{case.number}/").content.decode()
    assert 'data-testid="supplement"' in page and "比例尺不清" in page and "请一次补齐" in page
    assert page.count('data-testid="supplement-item"') == 2
    # A stopped clock is shown as stopped, never as a green "on track" (issue 12, defect 7).
    assert 'data-colour="paused"' in page and 'data-colour="green"' not in page
    url = f"/my/cases/{case.number}/supplement"
    # Everything asked for, at once: one file missing is an error next to it, and nothing changes.
    partial = zhangsan.post(url, {"files.0": _file("plan.pdf", "v2")})
    assert partial.status_code == 200 and set(_errors(partial.content.decode())) == {"files.1"}
    case.refresh_from_db()
    assert case.status == CaseStatus.SUPPLEMENT
    assert case.materials.get(name="平面图").status == MaterialStatus.REQUESTED
    done = zhangsan.post(
        url, {"files.0": _file("plan.pdf", "v2"), "files.1": _file("fire.pdf"), "note": "已补齐"}
    )
    assert done.status_code == 302 and done["Location"] == f"/my/cases/{case.number}/"
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    assert set(case.materials.values_list("status", flat=True)) == {MaterialStatus.PROVIDED}
    page = zhangsan.get(f"/my/cases/{case.number}/").content.decode()
    assert 'data-testid="supplement"' not in page
    # Answering again: nothing is asked any more.
    assert zhangsan.post(url, {"files.0": _file()}).status_code == 302


def test_a_missing_material_follows_by_upload(zhangsan, code):
    case = services.apply_online(_actor("zhangsan"), item_code=code, data=_data())
    services.accept(_actor("clerk"), case.number, paper=["营业执照", "平面图"], missing=["管理制度"])
    page = zhangsan.get(f"/my/cases/{case.number}/").content.decode()
    assert 'data-testid="outstanding"' in page and 'data-material="管理制度"' in page
    url = f"/my/cases/{case.number}/supply"
    empty = zhangsan.post(url, {"material": "管理制度"})
    assert empty.status_code == 200 and "file" in _errors(empty.content.decode())
    bad = zhangsan.post(
        url, {"material": "管理制度", "file": SimpleUploadedFile("rules.pdf", b"MZ nope", content_type=PDF)}
    )
    assert "file" in _errors(bad.content.decode())
    assert case.materials.get(name="管理制度").status == MaterialStatus.MISSING
    assert zhangsan.post(url, {"material": "平面图", "file": _file()}).status_code == 302  # not outstanding
    assert case.materials.get(name="平面图").file_ref == ""
    done = zhangsan.post(url, {"material": "管理制度", "file": _file("rules.pdf")})
    assert done.status_code == 302
    supplied = case.materials.get(name="管理制度")
    assert supplied.status == MaterialStatus.PROVIDED and supplied.file_ref


# --- withdraw ------------------------------------------------------------------------------------------


def test_withdrawing_asks_first_then_withdraws(zhangsan, code):
    case = services.apply_online(_actor("zhangsan"), item_code=code, data=_data())
    url = f"/my/cases/{case.number}/withdraw"
    confirm = zhangsan.get(url).content.decode()
    assert 'data-testid="withdraw-confirm"' in confirm
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED  # asking changes nothing
    assert zhangsan.post(url, {"reason": "不开了"})["Location"] == f"/my/cases/{case.number}/"
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    page = zhangsan.get(f"/my/cases/{case.number}/").content.decode()
    assert 'data-testid="withdraw"' not in page
    # Too late now: the page says so and nothing changes.
    assert zhangsan.get(url)["Location"] == f"/my/cases/{case.number}/"
    zhangsan.post(url)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.WITHDRAWN


# --- decision document and rating ----------------------------------------------------------------------


def _issued(code):
    case = services.apply_online(_actor("zhangsan"), item_code=code, data=_data())
    services.accept(_actor("clerk"), case.number)
    _do("reviewer", case)
    _do("section_head", case)
    services.issue(_actor("clerk"), case.number, delivery="online")
    return Case.objects.get(pk=case.pk)


def test_an_issued_case_offers_its_decision_and_a_rating(zhangsan, code):
    case = _issued(code)
    page = zhangsan.get(f"/my/cases/{case.number}/").content.decode()
    assert 'data-testid="rating-form"' in page and 'data-testid="withdraw"' not in page
    assert page.count('type="radio" name="score"') == 5
    document = zhangsan.get(f"/cases/{case.number}/document.pdf")
    assert document.status_code == 200 and document["Content-Type"] == PDF
    assert document.content.startswith(b"%PDF") and document["Content-Disposition"].startswith("attachment")
    assert _staff("clerk").get(f"/cases/{case.number}/document.pdf").status_code == 200
    url = f"/my/cases/{case.number}/rate"
    # A bad level needs a comment; no level at all is an error too. Nothing is recorded.
    bad = zhangsan.post(url, {"score": "1", "comment": " "})
    assert bad.status_code == 200 and set(_errors(bad.content.decode())) == {"comment"}
    none = zhangsan.post(url, {"comment": "好"})
    assert "score" in _errors(none.content.decode())
    assert not Rating.objects.exists()
    assert zhangsan.post(url, {"score": "5", "comment": "很快"}).status_code == 302
    assert Rating.objects.get(case=case).score == 5
    page = zhangsan.get(f"/my/cases/{case.number}/").content.decode()
    assert 'data-testid="rating"' in page and 'data-testid="rating-form"' not in page
    assert 'data-testid="rectification"' not in page
    zhangsan.post(url, {"score": "1", "comment": "again"})  # once only
    assert Rating.objects.get(case=case).score == 5


def test_a_bad_rating_shows_the_rectification(zhangsan, code):
    case = _issued(code)
    zhangsan.post(f"/my/cases/{case.number}/rate", {"score": "2", "comment": "等太久"})
    rating = Rating.objects.get(case=case)
    assert rating.is_bad and rating.rectification
    page = zhangsan.get(f"/my/cases/{case.number}/").content.decode()
    assert 'data-testid="rectification" data-state="open"' in page and "等太久" in page
    services.complete_rectification(
        _actor("section_head"),
        rating.rectification,
        measures="增加窗口人手",
        callback_result="satisfied",
    )
    page = zhangsan.get(f"/my/cases/{case.number}/").content.decode()
    assert 'data-testid="rectification" data-state="done"' in page and "增加窗口人手" in page


def test_required_materials_not_yet_provided_are_not_called_optional(zhangsan, code):
    """Issue 12, defect 10: after submitting, required materials still to provide were offered as
    "上传…份材料（选填）". Required ones say so, and how to provide them."""
    case = services.apply_online(_actor("zhangsan"), item_code=code, data=_data(), files={})
    pending = case.materials.filter(status="pending")
    assert pending.filter(required=True).exists(), list(pending.values_list("name", "required"))
    page = zhangsan.get(f"/my/cases/{case.number}/").content.decode()
    block = page[page.index('data-testid="pending"') :]
    block = block[: block.index("</details>")]
    required = pending.filter(required=True).count()
    assert f'data-required="{required}"' in block and "选填" not in block
    assert block.count("badge badge-warn") >= required and "到窗口" in block
