"""E-licences in the browser: a citizen applies for 食品经营许可 for their company and the business
licence and the ID card show 免提交; the citizen's wallet; a window clerk scans a licence's QR code
(the scanner types it, or a photo is uploaded) and sees it verified. Screenshots: /tmp/shots/licence-*.png.
"""

from pathlib import Path

import pytest

from tests.e2e.test_citizen_journeys import DESKTOP, PHONE, _context, _fits, _login
from tests.e2e.test_login_journey import _login as _staff_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")  # noqa: S108  (where reviewers look at the pictures; nothing is read back)
FOOD = "511A0005200004-511602000000-000-115113016823646795-1-00"


def _snap(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"licence-{name}.png"), full_page=True)


@pytest.fixture
def licences(seeded):
    from tongban.catalog.demo.loader import load_detail
    from tongban.licences import demo

    load_detail()
    demo.load_types()
    demo.load_licences()


def test_a_citizen_applies_for_a_food_licence_and_held_licences_stand_in(browser, live_server, licences):
    from tongban.accounts.seed import ENTERPRISES, demo_uscc
    from tongban.cases.models import Case, MaterialSource

    restaurant = demo_uscc(ENTERPRISES[0][0])
    context, page = _context(browser, live_server, PHONE)
    try:
        _login(page, "zhangsan")
        page.goto(page.base_url + f"/services/items/{FOOD}/apply")
        page.wait_for_selector("[data-testid=apply-form]")
        page.select_option("[name=enterprise_uscc]", restaurant)
        # For the company: its business licence and the legal representative's ID card stand in.
        shown = page.locator("[data-testid=reuse-found]:visible")
        assert shown.count() == 2
        business = page.locator("li.upload", has_text="营业执照").locator("[data-testid=reuse-found]:visible")
        assert "营业执照" in business.inner_text() and "免提交" in business.inner_text()
        identity = page.locator("li.upload", has_text="身份证件").locator("[data-testid=reuse-found]:visible")
        assert "居民身份证" in identity.inner_text()
        page.fill('[name="data.legal_representative_name"]', "张三")
        page.fill('[name="data.business_address"]', "广安区建设路12号")
        page.select_option('[name="data.business_form"]', "餐饮服务经营者")
        page.fill('[name="data.business_items"]', "热食类食品制售")
        page.fill('[name="data.food_safety_manager"]', "王安全")
        page.fill('[name="data.phone"]', "13800000001")
        page.check("[name=reuse_consent]")
        _fits(page, PHONE["width"])
        _snap(page, "apply-phone")
        page.click("[data-testid=apply-submit]")
        page.wait_for_selector("[data-testid=receipt]")
        number = page.locator("[data-testid=receipt-number]").inner_text()
        sources = dict(Case.objects.get(number=number).materials.values_list("name", "source"))
        assert sources["营业执照"] == sources["法定代表人（负责人）身份证件"] == MaterialSource.LICENCE
        assert page.locator("text=免提交").count() >= 2  # the case page says so too
        _snap(page, "receipt-phone")

        # The wallet lists the licences, and where the business licence was used.
        page.goto(page.base_url + "/me/licences/")
        cards = page.locator("[data-testid=wallet-licence]")
        assert cards.count() == 4
        business_card = page.locator('[data-testid=wallet-licence][data-type="business_licence"]')
        business_card.locator("[data-testid=licence-uses] summary").click()
        assert number in business_card.inner_text()
        _fits(page, PHONE["width"])
        _snap(page, "wallet-phone")
        assert not page.problems, page.problems
    finally:
        context.close()


def test_a_clerk_scans_a_licence_qr_and_sees_it_verified(browser, live_server, licences, tmp_path):
    from tongban.accounts.seed import ENTERPRISES, demo_uscc
    from tongban.licences import render
    from tongban.licences.models import Licence

    licence = Licence.objects.get(
        licence_type__code="business_licence", holder_index=demo_uscc(ENTERPRISES[0][0])
    )
    revoked = Licence.objects.get(licence_type__code="food_business_licence")
    context, page = _context(browser, live_server, DESKTOP)
    try:
        _staff_login(page, "clerk")
        page.click("nav >> text=扫码核验证照")
        page.wait_for_selector("[data-testid=scan-form]")
        # A handheld scanner is a keyboard: it types the QR's content into the focused box.
        assert page.evaluate("document.activeElement.id") == "id_text"
        page.keyboard.type(render.qr_text(licence))
        page.click("[data-testid=scan-submit]")
        result = page.locator("[data-testid=scan-result]")
        assert result.get_attribute("data-status") == "valid"
        assert "有效" in result.locator("[data-testid=offline-status]").inner_text()
        assert licence.code in result.inner_text()
        _snap(page, "scan-valid")

        # A photo of a revoked licence: the signature holds, the register says revoked.
        photo = tmp_path / "photo.png"
        photo.write_bytes(render.licence_png(revoked))
        page.set_input_files("#id_file", str(photo))
        page.click("[data-testid=scan-submit]")
        result = page.locator("[data-testid=scan-result]")
        assert result.get_attribute("data-status") == "revoked"
        assert "撤销" in result.inner_text()
        _snap(page, "scan-revoked")

        # A photo cut off in transfer: refused under the file field, in Chinese, nothing decoded.
        damaged = tmp_path / "cut.png"
        damaged.write_bytes(render.licence_png(licence)[:6000])
        page.set_input_files("#id_file", str(damaged))
        page.click("[data-testid=scan-submit]")
        error = page.locator("[data-testid=scan-file-error]")
        assert "损坏" in error.inner_text()
        assert page.locator("#id_file").get_attribute("aria-describedby") == "id_file_error"
        assert page.locator("[data-testid=scan-result]").count() == 0
        _snap(page, "scan-refused")
        page.problems[:] = [p for p in page.problems if "400" not in p]  # the refusal's status
        assert not page.problems, page.problems
    finally:
        context.close()
