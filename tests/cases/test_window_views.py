"""The window console (综合窗口) as a clerk uses it: queues, checking and accepting, 补正, 不予受理, 出件,
accepting on an applicant's behalf, and the printed receipt and notice. Others are turned away."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import samples
from tongban.accounts.models import Person
from tongban.accounts.seed import demo_id_number
from tongban.cases import services
from tongban.cases.models import Case, CaseStatus, MaterialSource, MaterialStatus, Supplement
from tongban.catalog import search
from tongban.core import calendar, events

from .test_lifecycle import RESTAURANT, _actor, _data, _do, _item

NEW_APPLICANT = demo_id_number("511602", dt.date(1979, 5, 4), 57)


def _submitted(code=None, **apply):
    code = code or _item()
    return services.apply_online(_actor("zhangsan"), item_code=code, data=_data(), **apply)


def _m(case, name):
    return case.materials.get(name=name)


def _check_post(case, choices: dict, **extra):
    """The check form as the browser posts it: one radio per material, by material row."""
    data = {f"m_{_m(case, name).pk}": value for name, value in choices.items()}
    for name, reason in extra.pop("reasons", {}).items():
        data[f"why_{_m(case, name).pk}"] = reason
    data.update(extra)
    return data


def _field_errors(response, field):
    """Error messages rendered beside one field (data-field marks which)."""
    html = response.content.decode()
    return re.findall(rf'class="field-error"[^>]*data-field="{re.escape(field)}">([^<]+)<', html)


# --- who may use the console ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/window/cases/", "/window/apply", "/window/cases/{n}/", "/window/cases/{n}/receipt"],
)
@pytest.mark.parametrize("username", ["reviewer", "zhangsan"])
def test_only_clerks_use_the_window_console(db, staff_client, citizen_client, url, username):
    case = _submitted()
    services.accept(_actor("clerk"), case.number)
    client = citizen_client(username) if username == "zhangsan" else staff_client(username)
    response = client.get(url.format(n=case.number))
    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(db, client):
    response = client.get("/window/cases/")
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_actions_are_refused_to_reviewers_and_change_nothing(db, staff_client):
    case = _submitted()
    client = staff_client("reviewer")
    response = client.post(
        f"/window/cases/{case.number}/check",
        _check_post(case, {"营业执照": "paper", "平面图": "paper", "管理制度": "paper"}, action="accept"),
    )
    assert response.status_code == 403
    response = client.post(f"/window/cases/{case.number}/refuse", {"reason": "不符合条件"})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED


# --- the queue --------------------------------------------------------------------------------------


def test_the_queue_lists_applications_to_accept_with_search_and_tabs(db, staff_client):
    code = _item()
    first = _submitted(code)
    second = services.apply_online(_actor("lisi"), item_code=code, data=_data())
    Case.objects.filter(pk=second.pk).update(
        decision_basis={
            "kind": "rules_failed",
            "failed": [{"key": "check.licence", "label": "营业执照核验", "problem": "未查到有效执照"}],
        }
    )
    client = staff_client("clerk")
    page = client.get("/window/cases/").content.decode()
    assert first.number in page and second.number in page
    assert "张*" in page and "张三" not in page  # names are masked in lists
    assert "营业执照核验" in page and "未查到有效执照" in page  # why 秒批 sent it to a person
    notice_by = calendar.get_calendar().add_working_days(first.submitted_at, 5)
    assert notice_by.isoformat() in page

    found = client.get("/window/cases/", {"q": first.number}).content.decode()
    assert first.number in found and second.number not in found
    by_name = client.get("/window/cases/", {"q": "李四"}).content.decode()
    assert second.number in by_name and first.number not in by_name

    services.accept(_actor("clerk"), first.number)
    _do("reviewer", first)
    _do("section_head", first)
    decided = client.get("/window/cases/", {"tab": "decided"}).content.decode()
    assert first.number in decided and second.number not in decided
    assert first.number not in client.get("/window/cases/").content.decode()


def test_the_queue_pages(db, staff_client):
    code = _item()
    for _i in range(23):
        _submitted(code)
    client = staff_client("clerk")
    first = client.get("/window/cases/")
    assert first.context["page"].paginator.count == 23 and len(first.context["rows"]) == 20
    second = client.get("/window/cases/", {"page": 2})
    assert len(second.context["rows"]) == 3


# --- the case page: accepting, 补正, 不予受理 ------------------------------------------------------------


def test_the_case_page_shows_the_applicant_masked_and_the_form(db, staff_client):
    case = _submitted(enterprise_uscc=RESTAURANT)
    person = Person.objects.get(user__username="zhangsan")
    page = staff_client("clerk").get(f"/window/cases/{case.number}/").content.decode()
    assert person.id_number_masked in page and person.id_number not in page
    assert f"/window/persons/{person.public_id}" in page  # revealing goes through the journalled flow
    assert "广安区示例餐饮有限公司" in page and "经营者名称" in page
    assert 'data-testid="check-form"' in page


def test_accepting_with_a_gap_at_the_window_and_the_receipt(db, staff_client):
    case = _submitted()
    client = staff_client("clerk")
    response = client.post(
        f"/window/cases/{case.number}/check",
        _check_post(
            case,
            {"营业执照": "paper", "平面图": "paper", "管理制度": "missing"},
            gap_days="3",
            action="accept",
        ),
    )
    assert response.status_code == 302 and response["Location"] == f"/window/cases/{case.number}/receipt"
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    assert (case.window.centre.code, case.window.number) == ("gaq-zwzx", "01")  # the clerk's own window
    gap = _m(case, "管理制度")
    assert gap.status == MaterialStatus.MISSING
    due = calendar.get_calendar().add_working_days(case.accepted_at, 3)
    assert _m(case, "平面图").source == MaterialSource.PAPER

    receipt = client.get(response["Location"]).content.decode()
    assert case.number in receipt and "受理回执" in receipt
    assert "管理制度" in receipt and due.isoformat() in receipt
    assert "<svg" in receipt and "<script>" not in receipt  # the QR code is drawn on the server
    assert "张*" in receipt and "张三" not in receipt

    # The 容缺 material is brought in later and checked on paper.
    response = client.post(f"/window/cases/{case.number}/supply", {"material": "管理制度"})
    assert response.status_code == 302
    assert _m(case, "管理制度").status == MaterialStatus.PROVIDED


def test_accepting_needs_a_decision_for_every_material(db, staff_client):
    case = _submitted()
    response = staff_client("clerk").post(
        f"/window/cases/{case.number}/check",
        _check_post(case, {"营业执照": "paper"}, action="accept"),
    )
    assert response.status_code == 200
    assert _field_errors(response, f"m_{_m(case, '平面图').pk}")
    assert _field_errors(response, f"m_{_m(case, '管理制度').pk}")
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED and case.accepted_at is None


def test_nothing_is_verified_until_the_clerk_says_so_and_the_record_names_the_clerk(db, staff_client):
    """Issue 12, defect 2: uploads arrived as 已上传，核验通过 and the window form came with
    已核验纸质原件 ticked for every material, so one click certified originals nobody looked at."""
    case = _submitted(files={"平面图": samples.upload("plan.pdf", "P")})
    client = staff_client("clerk")
    page = client.get(f"/window/cases/{case.number}/").content.decode()
    assert "checked" not in re.sub(r"data-check-all|check-all|checklist|check-form|check-table", "", page)
    assert 'data-testid="check-all"' in page
    plan = _m(case, "平面图")
    response = client.post(
        f"/window/cases/{case.number}/check",
        _check_post(case, {"营业执照": "paper", "管理制度": "paper"}, action="accept"),
    )
    assert response.status_code == 200 and _field_errors(response, f"m_{plan.pk}")  # the upload too
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED
    response = client.post(
        f"/window/cases/{case.number}/check",
        _check_post(case, {"营业执照": "paper", "平面图": "ok", "管理制度": "paper"}, action="accept"),
    )
    assert response.status_code == 302
    (accepted,) = [e for e in events.history("case", case.number) if e.activity == "case.accepted"]
    assert accepted.detail["checked_uploads"] == ["平面图"] and accepted.actor_label
    assert sorted(accepted.detail["paper"]) == ["管理制度", "营业执照"]


def test_on_behalf_every_required_material_needs_a_choice(db, staff_client):
    _item()
    client = staff_client("clerk")
    form = client.get("/window/apply", {"item": "CASE-ITEM"}).content.decode()
    assert not re.search(r'value="paper"[^>]*checked', form)
    response = client.post("/window/apply?item=CASE-ITEM", _apply_post(m_0=""))
    assert response.status_code == 200 and _field_errors(response, "m_0")
    assert not Case.objects.exists()


def test_core_materials_cannot_be_left_as_gaps_and_gap_days_are_checked(db, staff_client):
    case = _submitted()
    client = staff_client("clerk")
    response = client.post(
        f"/window/cases/{case.number}/check",
        _check_post(case, {"营业执照": "missing", "平面图": "paper", "管理制度": "paper"}, action="accept"),
    )
    assert _field_errors(response, f"m_{_m(case, '营业执照').pk}")  # not offered for a core material
    response = client.post(
        f"/window/cases/{case.number}/check",
        _check_post(
            case,
            {"营业执照": "paper", "平面图": "paper", "管理制度": "missing"},
            gap_days="0",
            action="accept",
        ),
    )
    assert _field_errors(response, "gap_days")
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED


def test_an_item_without_gaps_offers_no_gap_choice(db, staff_client):
    case = _submitted(_item(code="NO-GAPS", gaps=False))
    page = staff_client("clerk").get(f"/window/cases/{case.number}/").content.decode()
    assert f'name="m_{_m(case, "管理制度").pk}" value="missing"' not in page
    assert f'name="m_{_m(case, "管理制度").pk}" value="paper"' in page


def test_one_supplement_notice_lists_everything(db, staff_client):
    case = _submitted()
    client = staff_client("clerk")
    response = client.post(
        f"/window/cases/{case.number}/check",
        _check_post(
            case,
            {"营业执照": "paper", "平面图": "supplement", "管理制度": "supplement"},
            reasons={"平面图": "比例尺不清", "管理制度": "缺少签章"},
            extra_material="消防安全承诺书",
            extra_reason="缺少",
            note="请一次补齐",
            action="supplement",
        ),
    )
    assert response.status_code == 302 and response["Location"] == f"/window/cases/{case.number}/notices/1"
    (notice,) = Supplement.objects.filter(case=case)
    assert [i["material"] for i in notice.items] == ["平面图", "管理制度", "消防安全承诺书"]
    case.refresh_from_db()
    assert case.status == CaseStatus.SUPPLEMENT and case.accepted_at is None

    printed = client.get(response["Location"]).content.decode()
    assert "补正通知书" in printed and "比例尺不清" in printed and "消防安全承诺书" in printed
    assert client.get(f"/window/cases/{case.number}/notices/2").status_code == 404

    queue = client.get("/window/cases/", {"tab": "supplement"}).content.decode()
    assert case.number in queue

    # The applicant brings the originals: the clerk records them and the case can be accepted.
    response = client.post(
        f"/window/cases/{case.number}/received", {"paper": ["平面图", "管理制度", "消防安全承诺书"]}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED


def test_a_supplement_needs_a_reason_for_each_material(db, staff_client):
    case = _submitted()
    response = staff_client("clerk").post(
        f"/window/cases/{case.number}/check",
        _check_post(
            case, {"营业执照": "paper", "平面图": "supplement", "管理制度": "paper"}, action="supplement"
        ),
    )
    assert response.status_code == 200
    assert _field_errors(response, f"why_{_m(case, '平面图').pk}")
    assert not Supplement.objects.exists()


def test_received_supplement_must_cover_everything_asked(db, staff_client):
    case = _submitted()
    services.request_supplement(
        _actor("clerk"),
        case.number,
        items=[{"material": "平面图", "reason": "不清"}, {"material": "管理制度", "reason": "缺"}],
    )
    response = staff_client("clerk").post(f"/window/cases/{case.number}/received", {"paper": ["平面图"]})
    assert response.status_code == 200 and _field_errors(response, "paper")
    case.refresh_from_db()
    assert case.status == CaseStatus.SUPPLEMENT


def test_refusing_needs_a_reason(db, staff_client):
    case = _submitted()
    client = staff_client("clerk")
    response = client.post(f"/window/cases/{case.number}/refuse", {"reason": "  "})
    assert response.status_code == 200 and _field_errors(response, "reason")
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    response = client.post(f"/window/cases/{case.number}/refuse", {"reason": "不属于本事项受理范围"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.NOT_ACCEPTED
    page = client.get(f"/window/cases/{case.number}/").content.decode()
    assert "不属于本事项受理范围" in page and 'data-testid="refuse-form"' not in page


def test_acting_on_a_case_in_the_wrong_state_is_explained(db, staff_client):
    case = _submitted()
    services.accept(_actor("clerk"), case.number)
    client = staff_client("clerk")
    response = client.post(f"/window/cases/{case.number}/issue", {"delivery": "window"}, follow=True)
    assert "只有已作出决定的办件才能出件" in response.content.decode()  # the service's reason, on the page
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS


def test_unknown_cases_are_not_found(db, staff_client):
    client = staff_client("clerk")
    assert client.get("/window/cases/5116022026NOPE/").status_code == 404
    assert client.get("/window/cases/5116022026NOPE/receipt").status_code == 404


def test_a_receipt_exists_only_once_accepted(db, staff_client):
    case = _submitted()
    assert staff_client("clerk").get(f"/window/cases/{case.number}/receipt").status_code == 404


# --- 出件 ---------------------------------------------------------------------------------------------


def test_issuing_a_decided_case(db, staff_client):
    case = _submitted()
    services.accept(_actor("clerk"), case.number)
    _do("reviewer", case)
    _do("section_head", case)
    client = staff_client("clerk")
    page = client.get(f"/window/cases/{case.number}/").content.decode()
    assert 'data-testid="issue-form"' in page
    response = client.post(f"/window/cases/{case.number}/issue", {"delivery": "post", "address": ""})
    assert response.status_code == 200 and _field_errors(response, "address")
    response = client.post(f"/window/cases/{case.number}/issue", {"delivery": "parcel"})
    assert response.status_code == 200 and _field_errors(response, "delivery")
    case.refresh_from_db()
    assert case.status == CaseStatus.DECIDED
    response = client.post(
        f"/window/cases/{case.number}/issue", {"delivery": "post", "address": "四川省广安市广安区示例路1号"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.delivery) == (CaseStatus.ISSUED, "post")
    assert "四川省" not in case.delivery_address  # kept encrypted


# --- accepting on the applicant's behalf ----------------------------------------------------------------


def test_choosing_the_service_by_search(db, staff_client):
    _item()
    search.invalidate()
    client = staff_client("clerk")
    page = client.get("/window/apply", {"q": "测试食品许可"}).content.decode()
    assert "?item=CASE-ITEM" in page
    form = client.get("/window/apply", {"item": "CASE-ITEM"}).content.decode()
    assert "经营者名称" in form and 'name="f_enterprise_name"' in form
    assert 'name="m_2" value="missing"' in form  # 管理制度 is non-core and the item allows 容缺
    assert 'name="m_0" value="missing"' not in form
    missing = client.get("/window/apply", {"item": "NO-SUCH-ITEM"}).content.decode()
    assert "No published item" in missing or "没有" in missing


def _apply_post(**overrides):
    data = {
        "id_number": NEW_APPLICANT,
        "name": "赵窗办",
        "phone": "13900000123",
        "f_enterprise_name": "广安区示例餐饮有限公司",
        "f_uscc": RESTAURANT,
        "f_area": "88",
        "m_0": "paper",
        "m_1": "paper",
        "m_2": "missing",
        "gap_days": "5",
    }
    data.update(overrides)
    return data


def test_a_walk_in_application_is_accepted_on_behalf_with_a_gap(db, staff_client):
    _item()
    client = staff_client("clerk")
    response = client.post("/window/apply?item=CASE-ITEM", _apply_post())
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == f"/window/cases/{case.number}/receipt"
    assert (case.channel, case.status, case.applicant.name) == ("window", CaseStatus.IN_PROGRESS, "赵窗办")
    assert case.window.number == "01" and case.data["area"] == 88.0
    assert _m(case, "管理制度").status == MaterialStatus.MISSING
    receipt = client.get(response["Location"]).content.decode()
    due = calendar.get_calendar().add_working_days(case.accepted_at, 5)
    assert "管理制度" in receipt and due.isoformat() in receipt


def test_a_scan_can_be_uploaded_for_a_material(db, staff_client):
    _item()
    client = staff_client("clerk")
    name, content = samples.upload("plan.pdf", "floor plan")
    response = client.post(
        "/window/apply?item=CASE-ITEM",
        _apply_post(m_1="upload", file_1=SimpleUploadedFile(name, content, content_type="application/pdf")),
    )
    assert response.status_code == 302
    case = Case.objects.get()
    plan = _m(case, "平面图")
    assert (plan.status, plan.source, plan.file_name) == (
        MaterialStatus.PROVIDED,
        MaterialSource.UPLOAD,
        name,
    )
    download = client.get(f"/window/cases/{case.number}/materials/{plan.pk}")
    assert download.status_code == 200 and download.content == content


def test_bad_input_on_behalf_is_shown_per_field_and_changes_nothing(db, staff_client):
    _item()
    persons = Person.objects.count()
    client = staff_client("clerk")
    response = client.post(
        "/window/apply?item=CASE-ITEM",
        _apply_post(id_number="51160219790504057", f_enterprise_name="", f_uscc="123", m_1="upload"),
    )
    assert response.status_code == 200
    assert _field_errors(response, "f_enterprise_name") and _field_errors(response, "f_uscc")
    assert _field_errors(response, "file_1")  # "upload" chosen but no scan attached
    assert Case.objects.count() == 0 and Person.objects.count() == persons

    response = client.post("/window/apply?item=CASE-ITEM", _apply_post(id_number="51160219790504057"))
    assert response.status_code == 200 and _field_errors(response, "id_number")
    response = client.post("/window/apply?item=CASE-ITEM", _apply_post(m_0="missing"))
    assert response.status_code == 200 and _field_errors(response, "m_0")  # a core material
    assert Case.objects.count() == 0 and Person.objects.count() == persons


def test_a_new_applicant_needs_a_name(db, staff_client):
    _item()
    response = staff_client("clerk").post("/window/apply?item=CASE-ITEM", _apply_post(name=""))
    assert response.status_code == 200 and _field_errors(response, "name")
    assert Case.objects.count() == 0


def test_a_bundle_is_accepted_on_behalf_with_its_merged_form(db, staff_client):
    from tongban.catalog import services as catalog
    from tongban.core.authz import SYSTEM

    first, second = _item(code="BUNDLE-A"), _item(code="BUNDLE-B", department="rsj-shbxk")
    catalog.create_bundle(
        SYSTEM,
        code="TEST-BUNDLE",
        lead_department_code="xzspj",
        name="测试一件事",
        item_codes=[first, second],
        promised_limit_days=3,
        publish=True,
    )
    client = staff_client("clerk")
    form = client.get("/window/apply", {"bundle": "TEST-BUNDLE"}).content.decode()
    assert form.count('name="f_enterprise_name"') == 1  # asked once for both items (一表申请)
    response = client.post("/window/apply?bundle=TEST-BUNDLE", _apply_post())
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.bundle_version.bundle.code == "TEST-BUNDLE" and case.status == CaseStatus.IN_PROGRESS


def test_the_case_page_explains_why_the_rules_sent_it_to_a_person(db, staff_client):
    case = _submitted()
    Case.objects.filter(pk=case.pk).update(
        decision_basis={
            "kind": "rules_failed",
            "failed": [{"key": "data.area", "label": "经营面积", "problem": "超过上限", "expected": "≤ 100"}],
        }
    )
    page = staff_client("clerk").get(f"/window/cases/{case.number}/").content.decode()
    assert 'data-testid="failed-checks"' in page and "超过上限" in page and "≤ 100" in page


def test_the_gaps_queue_lists_cases_until_the_material_is_supplied(db, staff_client):
    case = _submitted()
    services.accept(_actor("clerk"), case.number, missing=["管理制度"])
    client = staff_client("clerk")
    assert case.number in client.get("/window/cases/", {"tab": "gaps"}).content.decode()
    client.post(f"/window/cases/{case.number}/supply", {"material": "管理制度"})
    assert case.number not in client.get("/window/cases/", {"tab": "gaps"}).content.decode()


def test_the_window_queue_service_checks_who_asks_and_which_queue(db):
    from tongban.core.errors import InvalidInput, NotPermitted

    with pytest.raises(NotPermitted):
        services.window_queue(_actor("reviewer"), status="submitted")
    with pytest.raises(InvalidInput) as exc:
        services.window_queue(_actor("clerk"), status="everything")
    assert "status" in exc.value.fields


def test_the_window_timeline_shows_no_raw_activity_codes(db, staff_client):
    """Issue 12, defect 6: the window's timeline showed `case.rated` and `work.*` as they are stored."""
    from tongban.cases import demo as case_demo
    from tongban.catalog.demo import loader

    loader.load_detail()
    case_demo.load_sample_cases()
    rated = Case.objects.get(status=CaseStatus.ISSUED)
    page = staff_client("clerk").get(f"/window/cases/{rated.number}/").content.decode()
    assert not re.search(r">\s*(case|work)[.:][a-z_]+\s*<", page), re.findall(
        r">\s*((?:case|work)[.:][a-z_]+)\s*<", page
    )
