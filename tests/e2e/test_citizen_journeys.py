"""A citizen on a phone applies online, answers a 补正, follows the case and rates the service.

The back office's part (acceptance, the departments' approvals, 出件) is driven through the case
services here; the screens for it are tested with them. Screenshots go to /tmp/shots/portal-*.png.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from tests import samples
from tests.e2e.conftest import shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")  # noqa: S108  (where reviewers look at the pictures; nothing is read back)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
BUNDLE = "BUNDLE-QYKB"  # 企业开办一件事 of the demo catalogue


def _snap(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"portal-{name}.png"), full_page=True)
    shot(page, f"portal-{name}")


def _context(browser, live_server, viewport=PHONE):
    phone = viewport == PHONE
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base_url = live_server.url
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and "favicon" not in m.location.get("url", "")
            else None
        ),
    )
    page.problems = problems
    return context, page


def _login(page, username="zhangsan"):
    page.goto(page.base_url + "/accounts/login")
    page.fill("#id_username", username)
    page.fill("#id_password", settings.TONGBAN_DEMO_PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(page.base_url + "/")


def _fits(page, width: int) -> None:
    """Nothing sticks out sideways: a phone never scrolls the page left and right."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _actor(username):
    from tongban.accounts.actors import Actor
    from tongban.accounts.models import User

    return Actor(User.objects.get(username=username))


def _sample(field: dict) -> str:
    """What a founder types into each kind of field."""
    from tongban.accounts.seed import demo_uscc

    return {
        "id_number": "11010519491231002X",
        "phone": "13800000001",
        "uscc": demo_uscc("511602MA62K3LP0"),
        "number": "100",
        "date": "2026-11-02",
        "textarea": "餐饮服务；食品销售",
    }.get(field.get("type"), "广安区示例新开餐饮有限公司" if field["key"] == "enterprise_name" else "示例")


def _work_through(number: str) -> int:
    """Every open step of the case approved by staff of its department, until none is left."""
    from tongban.accounts import services as account_services
    from tongban.accounts.models import Department
    from tongban.cases import services
    from tongban.core.authz import SYSTEM
    from tongban.workflow import services as workflow

    clerk, staff, done = _actor("clerk"), {}, 0
    while works := services.open_work(clerk, number):
        for work in works:
            path = work.department_path
            if path not in staff:
                department = Department.objects.get(path=path)
                username = f"e2e_{department.code}"
                account_services.create_staff(
                    SYSTEM,
                    username=username,
                    display_name=f"{department.short_name or department.name}审批",
                    department_code=department.code,
                    roles=[("reviewer", False), ("section_head", False)],
                )
                staff[path] = _actor(username)
            actor = staff[path]
            assert workflow.eligible(actor, work.role, path)
            services.claim_work(actor, work.public_id)
            services.complete_work(actor, work.public_id, decision="approve", opinion="同意")
            done += 1
    return done


def test_a_founder_applies_for_the_company_bundle_on_a_phone_and_rates_it(browser, live_server, seeded):
    from tongban.cases import services
    from tongban.cases.models import Case, CaseStatus, Rating
    from tongban.catalog import services as catalog
    from tongban.catalog.demo.loader import load_detail

    load_detail()
    fields = catalog.merged_form(catalog.get_published_bundle(BUNDLE)).fields
    context, page = _context(browser, live_server)
    try:
        _login(page)
        page.goto(page.base_url + f"/services/bundles/{BUNDLE}/")
        page.click("[data-testid=apply-online]")
        page.wait_for_selector("[data-testid=apply-form]")
        assert page.locator("[data-testid=apply-title]").inner_text() == "企业开办一件事"
        # One form: each shared question once.
        assert page.locator('[name="data.enterprise_name"]').count() == 1
        for spec in fields:
            element = page.locator(f'[name="data.{spec["key"]}"]')
            if spec["type"] == "select":
                element.select_option(index=1)
            elif spec["type"] == "checkbox":
                element.check()
            else:
                element.fill(_sample(spec))
        charter = page.locator("li.upload", has_text="公司章程").locator("input[type=file]")
        charter.set_input_files(
            {"name": "公司章程.pdf", "mimeType": "application/pdf", "buffer": samples.pdf("c")}
        )
        _fits(page, PHONE["width"])
        _snap(page, "apply-phone")

        page.click("[data-testid=apply-submit]")
        page.wait_for_selector("[data-testid=receipt]")
        number = page.locator("[data-testid=receipt-number]").inner_text()
        case = Case.objects.get(number=number)
        assert case.bundle_version.bundle.code == BUNDLE and case.status == CaseStatus.SUBMITTED
        assert case.materials.get(name="公司章程").file_name == "公司章程.pdf"
        assert page.locator("[data-testid=case-status]").inner_text() == "已提交，待受理"
        _fits(page, PHONE["width"])
        _snap(page, "receipt-phone")

        # The back office: accepted at the window, the departments approve in parallel, issued online.
        services.accept(_actor("clerk"), number)
        page.goto(page.base_url + f"/my/cases/{number}/")
        strip = page.locator("[data-testid=progress-strip] li")
        members = case.bundle_version.members.count()
        assert strip.count() == members + 3  # applied, accepted at one window, each member, delivered
        assert page.locator("[data-testid=progress-strip] li[data-state=current]").count() == members
        assert page.locator("[data-process-diagram]").count() == 0  # the engine's diagram is for staff
        assert page.locator("[data-testid=open-steps] li").count() == members
        _fits(page, PHONE["width"])
        _snap(page, "in-progress-phone")
        assert _work_through(number) == 2 * members  # 审查 and 审批 in each department
        services.issue(_actor("clerk"), number, delivery="online")

        page.goto(page.base_url + "/my/cases/")
        row = page.locator(f'[data-case="{number}"]')
        assert row.locator("[data-testid=case-status]").inner_text() == "已办结"
        _snap(page, "my-cases-phone")
        row.locator("a").first.click()
        page.wait_for_selector("[data-testid=rating-form]")
        assert page.locator("[data-testid=case-status]").inner_text() == "已办结"
        with page.expect_download() as info:
            page.click("[data-testid=document-download]")
        assert Path(info.value.path()).read_bytes().startswith(b"%PDF")
        assert info.value.suggested_filename == f"{number}.pdf"

        page.locator("label.rating-choice", has=page.locator('input[value="5"]')).click()
        page.click("[data-testid=rating-submit]")
        page.wait_for_selector("[data-testid=rating]")
        assert Rating.objects.get(case__number=number).score == 5
        assert page.locator("[data-testid=rectification]").count() == 0
        _fits(page, PHONE["width"])
        _snap(page, "issued-phone")

        page.click("[data-testid=care-toggle]")
        page.wait_for_selector("html.care")
        _fits(page, PHONE["width"])
        _snap(page, "issued-phone-care")
        assert not page.problems, page.problems
    finally:
        context.close()

    context, page = _context(browser, live_server, DESKTOP)
    try:
        _login(page)
        page.goto(page.base_url + f"/my/cases/{number}/")
        states = page.locator("[data-testid=progress-strip] li").evaluate_all(
            "els => els.map(e => e.dataset.state)"
        )
        assert states == ["done"] * (members + 3), states
        assert page.locator("[data-testid=progress-strip] time").count() == members + 3  # each with its date
        _snap(page, "issued-desktop")
        page.goto(page.base_url + f"/services/bundles/{BUNDLE}/apply")
        _snap(page, "apply-desktop")
        assert not page.problems, page.problems
    finally:
        context.close()


def _item():
    from tests.cases.test_lifecycle import _item as make_item

    return make_item()


def _apply(**files):
    from tests.cases.test_lifecycle import _data
    from tongban.cases import services

    return services.apply_online(_actor("zhangsan"), item_code=_item(), data=_data(), files=files)


def test_the_applicant_answers_a_supplement_request_and_handling_goes_on(browser, live_server, seeded):
    from tongban.cases import services
    from tongban.cases.models import Case, CaseStatus

    case = _apply(平面图=samples.upload("plan.pdf", "v1"))
    services.accept(_actor("clerk"), case.number, paper=["营业执照", "管理制度"])
    (step,) = services.open_work(_actor("reviewer"), case.number)
    services.claim_work(_actor("reviewer"), step.public_id)
    services.request_supplement(
        _actor("reviewer"),
        case.number,
        items=[{"material": "平面图", "reason": "比例尺不清，请重新上传"}],
        note="补齐后继续审查",
        work_id=step.public_id,
    )
    context, page = _context(browser, live_server)
    try:
        _login(page)
        page.goto(page.base_url + "/my/cases/")
        page.locator(f'[data-case="{case.number}"] a').first.click()
        page.wait_for_selector("[data-testid=supplement]")
        assert page.locator("[data-testid=case-status]").inner_text() == "待补正"
        assert "比例尺不清" in page.locator("[data-testid=supplement]").inner_text()
        assert page.locator("[data-testid=paused]").is_visible()
        assert page.locator("[data-testid=progress-strip] li[data-state=paused]").count() == 1
        _fits(page, PHONE["width"])
        _snap(page, "supplement-phone")

        # Sent without the file: the error stands next to the material, and nothing changes.
        page.click("[data-testid=supplement-submit]")
        page.wait_for_selector('[data-testid=supplement] .field-error[data-material="平面图"]')
        assert Case.objects.get(pk=case.pk).status == CaseStatus.SUPPLEMENT

        item = page.locator("[data-testid=supplement-item]", has_text="平面图")
        item.locator("input[type=file]").set_input_files(
            {"name": "平面图-v2.pdf", "mimeType": "application/pdf", "buffer": samples.pdf("v2")}
        )
        page.click("[data-testid=supplement-submit]")
        page.wait_for_selector(".alert-success")
        assert "办理中" in page.locator("[data-testid=case-status]").inner_text()
        assert page.locator("[data-testid=supplement]").count() == 0
        assert page.locator("[data-testid=paused]").count() == 0
        case.refresh_from_db()
        assert case.status == CaseStatus.IN_PROGRESS
        assert case.materials.get(name="平面图").file_name == "平面图-v2.pdf"
        _snap(page, "supplement-answered-phone")
        assert not page.problems, page.problems
    finally:
        context.close()


def test_a_bad_rating_opens_a_rectification_the_applicant_can_see(browser, live_server, seeded):
    from tests.cases.test_lifecycle import _do
    from tongban.cases import services
    from tongban.cases.models import Rating

    case = _apply()
    services.accept(_actor("clerk"), case.number)
    _do("reviewer", case)
    _do("section_head", case)
    services.issue(_actor("clerk"), case.number, delivery="window")
    context, page = _context(browser, live_server)
    try:
        _login(page)
        page.goto(page.base_url + f"/my/cases/{case.number}/")
        page.locator("label.rating-choice", has=page.locator('input[value="1"]')).click()
        # A bad level needs a comment: the field says so, and the server insists.
        assert page.locator("#id_comment").get_attribute("aria-required") == "true"
        page.click("[data-testid=rating-submit]")
        page.wait_for_selector('.field-error[data-field="comment"]')
        assert not Rating.objects.exists()
        assert page.locator('input[name=score][value="1"]').is_checked()  # the choice is kept
        _snap(page, "rating-error-phone")
        page.fill("#id_comment", "窗口排队太久，材料说明不清楚")
        page.click("[data-testid=rating-submit]")
        page.wait_for_selector("[data-testid=rectification][data-state=open]")
        rating = Rating.objects.get(case=case)
        assert rating.is_bad and rating.rectification
        due = re.search(r"\d{4}-\d{2}-\d{2}", page.locator("[data-testid=rectification]").inner_text())
        assert due and due.group(0) == f"{timezone.localtime(rating.rectification_due_at):%Y-%m-%d}"
        _fits(page, PHONE["width"])
        _snap(page, "rectification-phone")
        assert not page.problems, page.problems
    finally:
        context.close()
