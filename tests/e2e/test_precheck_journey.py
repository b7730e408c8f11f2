"""智能预审 in the browser: a citizen uploads a scan of an ID card whose number is not theirs; before
anyone reviews the case, OCR has read it, the clerk at the window sees the ID number flagged, and
the applicant sees the same finding on their case page. Screenshots: /tmp/shots/precheck-*.png."""

from pathlib import Path

import pytest

from tests.e2e.test_login_journey import _login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")  # noqa: S108  (where reviewers look at the pictures; nothing is read back)


def _shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"precheck-{name}.png"), full_page=True)


def test_a_clerk_sees_a_mismatched_id_number_flagged_on_a_window_case(page, browser):
    from tests.cases.test_lifecycle import _actor, _data
    from tests.cases.test_precheck import _item_with_id_card, _scan, _zhangsan_card
    from tongban.cases import services
    from tongban.cases.models import MaterialPrecheck
    from tongban.core.identifiers import id_check_char

    other = "44030519880808123" + id_check_char("44030519880808123")
    # Applied online; the transaction commits, and the (inline) job queue reads the scan.
    case = services.apply_online(
        _actor("zhangsan"),
        item_code=_item_with_id_card("OCR-E2E"),
        data=_data(),
        files={"申请人身份证": _scan(_zhangsan_card(id_number=other))},
    )
    assert MaterialPrecheck.objects.get(case__number=case.number).outcome == "mismatch"

    _login(page, "clerk")
    page.goto(page.base_url + "/window/cases/")
    page.click(f"text={case.number}")
    section = page.locator("[data-testid=prechecks]")
    section.wait_for()
    row = section.locator("tr[data-material='申请人身份证']")
    assert row.get_attribute("data-outcome") == "mismatch"
    flagged = row.locator("li[data-field=id_number]")
    assert flagged.get_attribute("data-outcome") == "mismatch"
    text = flagged.inner_text()
    assert "440305" in text and other not in text  # what the scan says, masked
    assert row.locator("li[data-field=name]").get_attribute("data-outcome") == "match"
    assert "badge-bad" in row.locator("[data-testid=precheck-outcome]").get_attribute("class")
    # The clerk still decides: the material check is there, below the findings.
    assert page.locator("[data-testid=check-form]").count() == 1
    _shot(page, "window-case")

    citizen = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    citizen.base_url = page.base_url
    _login(citizen, "zhangsan", totp=False)
    citizen.goto(citizen.base_url + f"/my/cases/{case.number}/")
    mine = citizen.locator("[data-testid=prechecks] li[data-field=id_number]")
    assert mine.get_attribute("data-outcome") == "mismatch"
    assert "不一致" in mine.inner_text()
    _shot(citizen, "applicant-phone")
    citizen.context.close()
