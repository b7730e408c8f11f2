"""秒批 in the browser: a citizen applies for 就业登记 and is approved and issued with no human step;
a case the rules do not pass goes to the window, where the clerk sees the failed checks."""

import pytest

from tests import samples
from tests.e2e.test_citizen_journeys import PHONE, _context, _fits, _login, _snap

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EMPLOYMENT = "512B0066800001-511602000000-000-1151130108778239R-1-00"  # 就业登记
FORM = {
    "applicant_name": "张三",
    "applicant_id_number": "11010519491231002X",
    "employment_date": "2026-11-02",
    "phone": "13800000001",
}


def _apply(page, *, with_contract: bool) -> str:
    page.goto(page.base_url + f"/services/items/{EMPLOYMENT}/apply")
    page.wait_for_selector("[data-testid=apply-form]")
    for key, value in FORM.items():
        page.fill(f'[name="data.{key}"]', value)
    page.select_option('[name="data.employment_type"]', "单位就业")
    files = [("劳动者身份证件", "id.pdf")] + (
        [("劳动合同或用工证明", "contract.pdf")] if with_contract else []
    )
    for material, name in files:
        page.locator("li.upload", has_text=material).locator("input[type=file]").set_input_files(
            {"name": name, "mimeType": "application/pdf", "buffer": samples.pdf(name)}
        )
    page.click("[data-testid=apply-submit]")
    page.wait_for_selector("[data-testid=receipt]")
    return page.locator("[data-testid=receipt-number]").inner_text()


def test_auto_approval_in_the_browser(browser, live_server, seeded):
    from tongban.cases.demo import load_rules
    from tongban.cases.models import Case, CaseStatus
    from tongban.catalog.demo.loader import load_detail

    load_detail()
    load_rules()
    context, page = _context(browser, live_server, PHONE)
    try:
        _login(page)
        number = _apply(page, with_contract=True)
        case = Case.objects.get(number=number)
        assert (case.status, case.decision_basis["kind"], case.decision_basis["rule"]) == (
            CaseStatus.ISSUED,
            "rule",
            "approve",
        )
        assert page.locator("[data-testid=case-status]").inner_text() == "已办结"
        assert "秒批" in page.locator("[data-testid=receipt]").inner_text()
        _fits(page, PHONE["width"])
        _snap(page, "auto-approved-phone")
        # Without the contract the rules cannot approve: a person decides.
        second = _apply(page, with_contract=False)
        assert Case.objects.get(number=second).status == CaseStatus.SUBMITTED
        assert not page.problems, page.problems
    finally:
        context.close()
