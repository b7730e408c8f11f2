"""A planner in the browser: creates a reform programme, imports a plan from XLSX (first a file with
mistakes, reported row by row, then the right one), sees the Gantt chart and the critical path,
drags a task and sees the tasks after it move on working days; a drag before a predecessor finishes
is refused with the reason. Screenshots: test-results/programme-*.png."""

import re

import pytest

from tests.e2e.conftest import shot, staff_login, watch_console
from tests.programme.conftest import plan_xlsx

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _drag(page, code: str, days: int) -> None:
    bar = page.evaluate(f"window.tongbanGantt.barCentre({code!r})")
    page.mouse.move(bar["x"], bar["y"])
    page.mouse.down()
    steps = 8
    for i in range(1, steps + 1):
        page.mouse.move(bar["x"] + bar["dayWidth"] * days * i / steps, bar["y"])
    page.mouse.up()


def _wait_for_start(page, code: str, start: str) -> None:
    """Poll the chart's data (the page's CSP forbids the eval behind wait_for_function)."""
    script = f"() => window.tongbanGantt.data().tasks.find(t => t.code === {code!r}).start"
    for _ in range(50):
        if page.evaluate(script) == start:
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"{code} does not start on {start}")


def test_planner_imports_a_plan_and_drags_a_task(page, tmp_path):
    problems = watch_console(page)
    staff_login(page, "supervisor")
    page.click("nav >> text=流程再造计划")
    page.fill("#id_code", "LCZZ-2026")
    page.fill("#id_name", "2026年食品经营许可流程再造")
    page.select_option("#id_department_code", "gov")
    page.click("[data-testid=programme-create]")
    page.wait_for_url(re.compile(r"/programme/LCZZ-2026/$"))

    # A plan with two mistakes: nothing is imported, each problem is shown on its row and column.
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(
        plan_xlsx(
            [
                ("P1", "A", "梳理", "任务", "scjgj", "2026-09-28", 3, "", "", "", ""),
                ("P1", "B", "精简", "任务", "nowhere", "2026-09-28", 2, "Z", "", "", ""),
            ]
        )
    )
    page.set_input_files("input[type=file]", str(bad))
    page.click("[data-testid=import-submit]")
    table = page.locator("[data-testid=import-problems]")
    text = table.inner_text()
    assert "牵头部门" in text and "没有这个部门。" in text and "没有编号为 Z 的任务。" in text
    assert page.locator(".field-error[data-field=file]").inner_text() == "计划表有问题，未导入任何内容。"
    shot(page, "programme-import-problems")

    good = tmp_path / "plan.xlsx"
    good.write_bytes(plan_xlsx())
    page.set_input_files("input[type=file]", str(good))
    page.click("[data-testid=import-submit]")
    page.wait_for_selector("#gantt[data-state=rendered]")
    assert page.locator("[data-testid=critical-path]").inner_text().endswith("A → B → D → E → F → M")
    assert page.locator("tr[data-task=D] td[data-col=start]").inner_text() == "2026-10-12"
    shot(page, "programme-gantt")

    # Drag B four calendar days later (Thu 8 Oct → Mon 12 Oct): D, E, F and M move with it.
    _drag(page, "B", 4)
    status = page.locator("[data-testid=gantt-status]")
    status.wait_for(state="visible")
    assert "D 2026-10-15" in status.inner_text() and "M 2026-10-26" in status.inner_text()
    _wait_for_start(page, "E", "2026-10-19")
    shot(page, "programme-gantt-moved")

    # D cannot start before B finishes (Tue 13 Oct) and the lag of one working day has passed.
    _drag(page, "D", -3)
    error = page.locator("[data-testid=gantt-error]")
    error.wait_for(state="visible")
    assert "前置任务尚未完成：最早可在 2026-10-15 开始。" in error.inner_text()

    page.reload()
    assert page.locator("tr[data-task=D] td[data-col=start]").inner_text() == "2026-10-15"
    assert page.locator("tr[data-task=M] td[data-col=finish]").inner_text() == "2026-10-26"
    # the refused import and the refused drag answer 422, which the browser logs; nothing else
    assert [p for p in problems if "422" not in p] == [], problems
