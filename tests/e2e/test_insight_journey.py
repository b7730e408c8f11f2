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
