"""暂存: a citizen on a phone starts an application, saves it half done, comes back from 我的, finds what
they typed and the file they chose, and submits. Screenshots: test-results/portal-draft-*.png."""

import pytest

from tests import samples
from tests.e2e.test_citizen_journeys import PHONE, _context, _fits, _login, _snap

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_half_done_application_is_saved_resumed_from_my_centre_and_submitted(browser, live_server, seeded):
    from tests.cases.test_lifecycle import RESTAURANT, _item
    from tongban.cases.models import ApplicationDraft, Case

    code = _item()
    context, page = _context(browser, live_server)
    try:
        _login(page)
        page.goto(page.base_url + f"/services/items/{code}/apply")
        steps = page.locator("nav.apply-steps li")
        assert steps.first.inner_text().strip() and steps.count() >= 3
        page.fill('[name="data.enterprise_name"]', "广安区示例餐饮有限公司")
        page.locator("li.upload", has_text="平面图").locator("input[type=file]").set_input_files(
            {"name": "平面图.pdf", "mimeType": "application/pdf", "buffer": samples.pdf("plan")}
        )
        _fits(page, PHONE["width"])
        _snap(page, "draft-started-phone")
        page.click("[data-testid=apply-save]")
        page.wait_for_selector("[data-testid=draft-banner]")
        assert ApplicationDraft.objects.count() == 1 and not Case.objects.exists()

        # Later, from 我的: the saved application is listed and opens where it was left.
        page.goto(page.base_url + "/")
        drafts = page.locator("[data-testid=my-drafts]")
        assert "测试食品许可" in drafts.inner_text()
        _fits(page, PHONE["width"])
        _snap(page, "draft-my-centre-phone")
        drafts.locator("[data-testid=draft-resume]").click()
        page.wait_for_selector("[data-testid=draft-banner]")
        assert page.input_value('[name="data.enterprise_name"]') == "广安区示例餐饮有限公司"
        kept = page.locator('[data-testid=kept-file][data-material="平面图"]')
        assert "平面图.pdf" in kept.inner_text()
        _snap(page, "draft-resumed-phone")

        page.fill('[name="data.uscc"]', RESTAURANT)
        page.click("[data-testid=apply-submit]")
        page.wait_for_selector("[data-testid=receipt]")
        number = page.locator("[data-testid=receipt-number]").inner_text()
        case = Case.objects.get(number=number)
        assert case.materials.get(name="平面图").file_name == "平面图.pdf"
        assert not ApplicationDraft.objects.exists()
        page.goto(page.base_url + "/")
        assert page.locator("[data-testid=my-drafts]").count() == 0
        assert not page.problems, page.problems
    finally:
        context.close()
