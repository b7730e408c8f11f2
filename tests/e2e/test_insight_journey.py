"""A supervisor in the browser imports a real permit log (receipt.csv) and reads its process map,
bottlenecks and variants. Screenshots: /tmp/shots/insight-*.png."""

from pathlib import Path

import pytest

from tests.conftest import shared_data_dir
from tests.e2e.test_login_journey import _login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")  # noqa: S108  (where reviewers look at the pictures; nothing is read back)


def test_a_supervisor_imports_a_log_and_reads_the_process_map(page):
    _login(page, "supervisor")
    page.click("nav >> text=流程挖掘")
    page.wait_for_selector("[data-testid=import-form]")
    page.set_input_files("#id_file", str(Path(shared_data_dir()) / "eventlogs" / "receipt.csv"))
    page.fill("#id_name", "环境许可受理（WABO）")
    page.click("[data-testid=import-submit]")
    page.wait_for_selector("#process-map[data-state=rendered]")
    assert int(page.get_attribute("#process-map", "data-edges")) > 20
    assert page.locator("#process-map svg").count() == 1
    assert "Confirmation of receipt" in page.locator("[data-testid=bottlenecks]").inner_text()
    assert page.locator("[data-testid=variants] tbody tr").count() == 20
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "insight-process-map.png"), full_page=True)
    # What if the costliest hand-over's two steps ran side by side?
    page.click("[data-testid=what-if-link]")
    page.wait_for_selector("[data-testid=what-if-form]")
    page.select_option("#w-pa", "T05 Print and send confirmation of receipt")
    page.select_option("#w-pb", "T06 Determine necessity of stop advice")
    page.fill("#w-lim", "5")
    page.click("[data-testid=what-if-run]")
    page.wait_for_selector("[data-testid=what-if-result]", timeout=60_000)
    saving = page.locator("[data-testid=saving] .kpi-value").inner_text()
    assert saving.endswith("%") and float(saving.rstrip(" %")) > 0
    page.screenshot(path=str(SHOTS / "insight-what-if.png"), full_page=True)


def test_a_supervisor_reads_the_dashboard_finds_a_red_unit_and_sends_a_warning_letter(
    page, settings, tmp_path
):
    from tests.insight.factories import three_bureaus, write_facts

    settings.VAR_DIR = str(tmp_path)
    write_facts(tmp_path / "insight" / "facts.parquet", three_bureaus())
    _login(page, "supervisor")
    page.click("nav >> text=效能仪表盘")
    page.wait_for_selector("#radar[data-state=rendered]")
    league = page.locator("[data-testid=league-table]")
    assert league.locator("tbody tr").count() == 3
    red = league.locator("tr[data-unit=rsj] .rag-red")
    assert red.count() >= 1 and red.first.inner_text() == "50.0 %"
    assert league.locator("tr[data-unit=scjgj] .mark-top").count() == 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "insight-dashboard.png"), full_page=True)
    # Filter to the red bureau: its cards, and its own series on the radar.
    page.select_option("[data-testid=filter-department]", "rsj")
    page.click("[data-testid=filter-submit]")
    page.wait_for_selector("#radar[data-state=rendered]")
    assert page.locator("[data-kpi=on_time_rate]").get_attribute("data-status") == "red"
    with page.expect_popup() as popup_info:
        page.evaluate("document.querySelector('[data-testid=warning-letter]').target = '_blank'")
        page.click("[data-testid=warning-letter]")
    letter = popup_info.value
    assert letter.url.endswith(".pdf") or "warning" in letter.url
    page.screenshot(path=str(SHOTS / "insight-dashboard-rsj.png"), full_page=True)
