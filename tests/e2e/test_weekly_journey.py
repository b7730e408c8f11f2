"""A task owner files a weekly report (周报) in the browser: from the programme's task table to the
task's reports, with the text, the percent done and an evidence file; the report is listed with its
evidence, the task's progress follows, and the planner's weekly overview counts it as filed.
Screenshots: test-results/weekly-*.png."""

import re

import pytest

from tests import samples
from tests.e2e.conftest import shot, staff_login, watch_console
from tests.programme.conftest import plan_xlsx

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _plan() -> str:
    from tongban.accounts.actors import Actor
    from tongban.accounts.models import User
    from tongban.programme import services

    planner = Actor(User.objects.get(username="supervisor"))
    programme = services.create_programme(
        planner, code="LCZZ-2026", name="2026年流程再造", department_code="gov"
    )
    services.import_plan(planner, programme.code, plan_xlsx())
    return programme.code


def test_an_owner_files_a_weekly_report(page, tmp_path):
    code = _plan()
    problems = watch_console(page)
    staff_login(page, "bureau_head")
    page.click("nav >> text=流程再造计划")
    page.click(f"text={code}")
    page.wait_for_url(re.compile(rf"/programme/{code}/$"))
    page.click("[data-testid=weekly-A]")
    page.wait_for_url(re.compile(rf"/programme/{code}/tasks/A/weekly$"))

    # a report without its text is refused on the field, and nothing changes
    page.fill("#id_percent", "150")
    page.click("[data-testid=weekly-submit]")
    assert page.locator(".field-error[data-field=text]").is_visible()
    assert page.locator(".field-error[data-field=percent]").inner_text() == "请输入 0 到 100 之间的整数。"

    evidence = tmp_path / "事项清单初稿.pdf"
    evidence.write_bytes(samples.pdf("list"))
    page.fill("#id_text", "完成食品经营许可事项清单梳理，形成初稿并征求各科室意见。")
    page.fill("#id_percent", "60")
    page.set_input_files("#id_files", str(evidence))
    page.click("[data-testid=weekly-submit]")
    page.wait_for_selector("[data-testid=evidence-link]")
    assert page.locator("[data-testid=task-percent]").inner_text() == "60%"
    assert "完成食品经营许可事项清单梳理" in page.locator("article[data-week]").inner_text()
    download = page.request.get(
        page.base_url + page.locator("[data-testid=evidence-link]").get_attribute("href")
    )
    assert download.ok and download.body() == samples.pdf("list")
    shot(page, "weekly-filed")

    # the report belongs to the current week: the planner's overview of it lists A as filed
    page.goto(f"{page.base_url}/programme/{code}/weekly")
    assert page.locator("tr[data-task=A]").get_attribute("data-filed") == "1"
    shot(page, "weekly-overview")
    assert [p for p in problems if "422" not in p] == [], problems
