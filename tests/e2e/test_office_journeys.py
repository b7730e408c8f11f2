"""Back-office journeys in headless chromium (desktop 1280×800): a reviewer works through the worklist,
a section head chases an overdue step, a catalogue manager edits, tries and publishes 秒批 rules."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone

from tests.e2e.conftest import shot, staff_login, watch_console

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")  # noqa: S108  (reviewers look at the pictures; nothing reads them back)
FIELDS = [
    {"key": "enterprise_name", "label": "经营者名称", "type": "text", "required": True},
    {"key": "area", "label": "经营面积", "type": "number", "required": False},
]


def _snap(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"office-{name}.png"), full_page=True)
    shot(page, f"office-{name}")


def _item(code, *, auto=False, limit=5):
    from tongban.catalog import services as catalog
    from tongban.core.authz import SYSTEM

    catalog.create_item(
        SYSTEM,
        code=code,
        department_code="scjgj-spjyk",
        name="小餐饮经营许可" if not auto else "小餐饮登记（秒批）",
        item_type="licensing",
        statutory_limit_days=20,
        promised_limit_days=limit,
        auto_approvable=auto,
        form_fields=FIELDS,
        materials=[{"name": "营业执照"}, {"name": "平面图"}],
    )
    catalog.publish_item(SYSTEM, code)
    return code


def _case(code, *, days_ago=0, name="广安区示例餐饮有限公司"):
    from tests.cases.test_lifecycle import _actor
    from tongban.cases import services

    when = timezone.now() - dt.timedelta(days=days_ago)
    case = services.apply_online(
        _actor("zhangsan"), item_code=code, data={"enterprise_name": name, "area": "120"}, now=when
    )
    services.accept(_actor("clerk"), case.number, now=when)
    return case.number


def test_a_reviewer_filters_by_colour_claims_and_approves(page):
    from tongban.workflow.models import WorkItem

    code = _item("E2E-OFFICE")
    late = _case(code, days_ago=40, name="老街面馆")
    fresh = [_case(code, name=f"新开小吃店{i}") for i in range(2)]
    problems = watch_console(page)
    staff_login(page, "reviewer")
    page.goto(page.base_url + "/work/")
    rows = page.locator("[data-testid=worklist] tbody tr[data-case]")
    assert rows.count() == 3
    # The red step is first and says so in words, not only in colour.
    assert rows.first.get_attribute("data-case") == late
    assert rows.first.locator("[data-testid=ryg]").inner_text().strip() != ""

    page.select_option("#id_colour", "red")  # submits itself (htmx swaps the results, the URL follows)
    page.wait_for_url(re.compile(r"colour=red"))
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=worklist] tbody tr[data-case]').length === 1"
    )
    assert rows.first.get_attribute("data-case") == late
    _snap(page, "worklist")

    rows.first.locator("[data-testid=claim]").click()
    page.wait_for_url(re.compile(r"/work/[0-9a-f-]+/$"))
    assert page.locator("[data-testid=case-number]").inner_text() == late
    assert page.locator("[data-testid=step-status]").inner_text().endswith("李审查")
    page.wait_for_selector("[data-process-diagram][data-state=rendered]")
    # The other actions sit folded away; opened, the 补正 notice lists the case's materials to tick.
    page.click("[data-testid=action-supplement] summary")
    assert page.locator("[data-testid=action-supplement] input[type=checkbox]").count() == 2
    page.click("[data-testid=action-transfer] summary")
    page.evaluate("window.scrollTo(0, 0)")
    _snap(page, "step-actions")
    page.click("[data-testid=action-supplement] summary")
    page.click("[data-testid=action-transfer] summary")
    page.fill("#id_complete-opinion", "材料齐全，现场符合要求，同意。")
    page.evaluate("window.scrollTo(0, 0)")
    _snap(page, "step")
    page.click("[data-testid=complete-submit]")
    page.wait_for_url(page.base_url + "/work/")
    assert page.locator(".alert-success").count() == 1
    step = WorkItem.objects.get(subject=late, role="reviewer")
    assert (step.status, step.decision, step.opinion) == (
        "completed",
        "approve",
        "材料齐全，现场符合要求，同意。",
    )
    remaining = {
        r.get_attribute("data-case") for r in page.locator("[data-testid=worklist] tbody tr[data-case]").all()
    }
    assert remaining == set(fresh)
    assert not problems, problems


def test_a_reviewer_keeps_an_opinion_reuses_it_and_finds_the_cases_under_handled(page):
    """常用意见 kept from one decision and picked on the next; both cases then under 已办, exported."""
    from tongban.workflow.models import SavedOpinion, WorkItem

    code = _item("E2E-DONE")
    first, second = _case(code, name="东街面馆"), _case(code, name="西街茶铺")
    problems = watch_console(page)
    staff_login(page, "reviewer")
    for number in (first, second):
        page.goto(page.base_url + "/work/")
        page.locator(f"tr[data-case='{number}'] [data-testid=claim]").click()
        page.wait_for_url(re.compile(r"/work/[0-9a-f-]+/$"))
        if number == first:
            page.fill("#id_complete-opinion", "材料齐全，符合法定形式，同意。")
            page.check("#id_complete-keep_opinion")
        else:
            picker = page.locator("[data-testid=opinion-picker]")
            assert picker.is_visible()  # shown by the script; without it the page still works
            picker.select_option("材料齐全，符合法定形式，同意。")
            assert page.input_value("#id_complete-opinion") == "材料齐全，符合法定形式，同意。"
            _snap(page, "opinion-picked")
        page.click("[data-testid=complete-submit]")
        page.wait_for_url(page.base_url + "/work/")
    assert SavedOpinion.objects.get().uses == 1
    assert set(
        WorkItem.objects.filter(subject__in=[first, second], role="reviewer").values_list(
            "opinion", flat=True
        )
    ) == {"材料齐全，符合法定形式，同意。"}
    page.click("[data-testid=done-link]")
    page.wait_for_url(page.base_url + "/work/done/")
    rows = page.locator("[data-testid=done-list] tbody tr[data-case]")
    assert [r.get_attribute("data-case") for r in rows.all()] == [second, first]
    _snap(page, "handled")
    with page.expect_download() as download:
        page.click("[data-testid=done-export]")
    assert download.value.suggested_filename.startswith("handled-")
    assert not problems, problems


def test_a_section_head_sees_an_overdue_step_and_sends_a_reminder(page):
    from tongban.accounts.models import Notification
    from tongban.cases import services

    code = _item("E2E-OVERDUE")
    late = _case(code, days_ago=40, name="老街面馆")
    _case(code, days_ago=30, name="河边烧烤")
    _case(code, name="新开小吃店")
    services.sweep()  # overdue steps are escalated
    problems = watch_console(page)
    staff_login(page, "section_head")
    page.goto(page.base_url + "/work/overdue")
    rows = page.locator("[data-testid=overdue] tbody tr[data-case]")
    assert rows.count() == 2
    assert page.locator("[data-testid=overdue-total]").inner_text() == "2"
    row = page.locator(f"[data-testid=overdue] tbody tr[data-case='{late}']")
    assert row.locator("[data-testid=escalated]").is_visible()
    row.locator("input[type=text]").fill("请今天内办结并回复")
    _snap(page, "overdue")
    row.locator("[data-testid=remind]").click()
    page.wait_for_url(page.base_url + "/work/overdue")
    assert page.locator(".alert-success").count() == 1
    note = Notification.objects.filter(recipient__username="reviewer", kind="reminder", subject=late).latest(
        "id"
    )
    assert note.body == "请今天内办结并回复"
    assert not problems, problems


def test_a_manager_edits_tries_and_publishes_rules(page):
    from tongban.cases.models import DecisionTable

    code = _item("E2E-AUTO", auto=True)
    problems = watch_console(page)
    page.on("dialog", lambda dialog: dialog.accept())
    staff_login(page, "admin")
    page.goto(page.base_url + f"/catalog/items/{code}/")
    page.click("[data-testid=rules-link]")
    page.wait_for_url(re.compile(rf"/catalog/items/{code}/rules$"))
    assert page.locator("[data-testid=rule-row]").count() == 2  # a starter table to edit

    # A second condition: the shop's floor area from the application form.
    page.click("[data-testid=add-input]")
    page.wait_for_selector("#in-1-key")
    page.fill("#in-1-key", "data.area")
    page.fill("#in-1-label", "经营面积")
    page.select_option("#in-1-type", "number")
    page.fill("#r-0-id", "small_shop")
    page.fill("#r-0-when-1", "<= 200")
    page.fill("#r-0-then-1", "面积不超过200平方米且材料齐全")
    # A mistake first: the problem shows next to its cell and nothing is saved.
    page.fill("#r-1-when-1", "[1..")
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-field='r-1-when-1']")
    assert not DecisionTable.objects.exists()
    assert page.locator("#r-1-when-1").get_attribute("aria-invalid") == "true"
    page.evaluate("window.scrollTo(0, 0)")
    _snap(page, "rules-error")
    page.fill("#r-1-when-1", "-")

    samples = page.locator("[data-testid=sample]")
    samples.nth(0).select_option("true")
    samples.nth(1).fill("120")
    page.click("[data-testid=try]")
    page.wait_for_selector("[data-testid=try-result]")
    assert page.locator("[data-testid=try-result]").get_attribute("data-decision") == "approve"
    assert page.locator("[data-testid=deciding-rule]").inner_text() == "small_shop"
    assert "is-chosen" in page.locator("tr[data-rule=small_shop]").get_attribute("class")
    page.evaluate("window.scrollTo(0, 0)")
    _snap(page, "rules-try")

    samples = page.locator("[data-testid=sample]")
    samples.nth(1).fill("800")
    page.click("[data-testid=try]")
    page.wait_for_selector("[data-testid=try-result][data-decision=manual]")
    assert page.locator("[data-testid=failed-checks]").inner_text().count("经营面积") == 1

    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=publish]")
    draft = DecisionTable.objects.get(item__code=code)
    assert draft.status == "draft" and draft.table["inputs"][1]["key"] == "data.area"
    page.click("[data-testid=publish]")
    page.wait_for_selector("[data-testid=table-versions] tr[data-status=published]")
    draft.refresh_from_db()
    assert draft.status == "published"
    _snap(page, "rules")
    assert not problems, problems
