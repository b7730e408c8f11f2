"""A supervisor in the browser: opens the efficiency dashboard, filters to one bureau, sees the
league table and a red unit (and its warning letter), opens the process map of an item — ours,
from the case events, and a permit process from a real log — and runs a what-if that runs two
steps side by side and sees the predicted saving. Screenshots: /tmp/shots/insight-*.png."""

from pathlib import Path

import pytest

from tests.conftest import shared_data_dir
from tests.e2e.test_login_journey import _login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")  # noqa: S108  (where reviewers look at the pictures; nothing is read back)


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"insight-{name}.png"), full_page=True)


def test_a_supervisor_finds_a_red_unit_and_tries_a_redesign(page, settings, tmp_path):
    from tests.insight.factories import three_bureaus, write_facts
    from tongban.cases.demo import FOOD_LICENCE, load_sample_cases
    from tongban.catalog.demo.loader import load_detail

    settings.VAR_DIR = str(tmp_path)
    load_detail()
    load_sample_cases()
    write_facts(tmp_path / "insight" / "facts.parquet", three_bureaus())
    _login(page, "supervisor")

    # The dashboard: league table with a red bureau, then that bureau alone.
    page.click("nav >> text=效能仪表盘")
    page.wait_for_selector("#radar[data-state=rendered]")
    league = page.locator("[data-testid=league-table]")
    assert league.locator("tbody tr").count() == 3
    red = league.locator("tr[data-unit=rsj] .rag-red")
    assert red.count() >= 1 and red.first.inner_text() == "50.0 %"
    assert league.locator("tr[data-unit=scjgj] .mark-top").count() == 1
    assert league.locator("tr[data-unit=rsj] .mark-bottom").count() == 1
    _shot(page, "dashboard")
    page.select_option("[data-testid=filter-department]", "rsj")
    page.click("[data-testid=filter-submit]")
    page.wait_for_selector("#radar[data-state=rendered]")
    assert page.locator("[data-kpi=on_time_rate]").get_attribute("data-status") == "red"
    letter = page.locator("[data-testid=warning-letter]").get_attribute("href")
    response = page.request.get(page.base_url + letter)
    assert response.ok and response.body().startswith(b"%PDF")
    _shot(page, "dashboard-rsj")

    # The process map of one of our items, from its case events.
    page.click("nav >> text=流程挖掘")
    page.select_option("[data-testid=case-item]", FOOD_LICENCE)
    page.click("[data-testid=import-cases]")
    page.wait_for_selector("#process-map[data-state=rendered]")
    variants = page.locator("[data-testid=variants]").inner_text()
    assert (
        "提交申请" in variants and "case.submitted" not in variants
    )  # labels, not codes (issue 12, defect 6)
    _shot(page, "item-map")

    # A permit process with a year of history: its map, then what if two steps ran side by side.
    page.click("nav >> text=流程挖掘")
    page.set_input_files("#id_file", str(Path(shared_data_dir()) / "eventlogs" / "receipt.csv"))
    page.fill("#id_name", "环境许可受理（WABO）")
    page.click("[data-testid=import-submit]")
    page.wait_for_selector("#process-map[data-state=rendered]")
    assert int(page.get_attribute("#process-map", "data-edges")) > 20
    assert page.locator("#process-map svg").count() == 1
    assert "Confirmation of receipt" in page.locator("[data-testid=bottlenecks]").inner_text()
    _shot(page, "process-map")
    page.click("[data-testid=what-if-link]")
    page.wait_for_selector("[data-testid=what-if-form]")
    # Once sent, the form says that it runs (issue 12, defect 11: a silent 6 s wait looked like a
    # hang). A submit event that sends nothing shows it; the page is then loaded afresh.
    busy = page.locator("[data-testid=what-if-busy]")
    assert not busy.is_visible()
    page.evaluate(
        "document.querySelector('[data-testid=what-if-form]')"
        ".dispatchEvent(new Event('submit', {bubbles: true, cancelable: true}))"
    )
    assert busy.is_visible() and "20" in busy.inner_text()
    assert page.get_attribute("[data-testid=what-if-form]", "aria-busy") == "true"
    page.reload()
    page.wait_for_selector("[data-testid=what-if-form]")
    page.select_option("#w-pa", "T05 Print and send confirmation of receipt")
    page.select_option("#w-pb", "T06 Determine necessity of stop advice")
    page.fill("#w-lim", "5")
    # The simulation answers with a page after it ran (seconds; longer on a busy machine).
    page.click("[data-testid=what-if-run]", no_wait_after=True)
    page.wait_for_selector("[data-testid=what-if-result]", timeout=90_000)
    saving = page.locator("[data-testid=saving] .kpi-value").inner_text()
    assert saving.endswith("%") and float(saving.rstrip(" %")) > 0
    assert page.locator("[data-testid=small-sample]").count() == 0  # 1,434 cases
    _shot(page, "what-if")
