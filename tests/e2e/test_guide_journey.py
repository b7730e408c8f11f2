"""A citizen on a phone asks the guide assistant (智能导办) in everyday words, gets answer cards (also
in the large-text care mode), answers its clarifying question, and applies from a card. A question
it cannot answer goes to a person as a 12345 咨询 order. Screenshots: /tmp/shots/guide-*.png."""

from pathlib import Path

import pytest
from django.conf import settings

from tests.e2e.conftest import shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")  # noqa: S108  (for reviewers to look at; nothing is read back)
PHONE = {"width": 390, "height": 844}
CARD = "512B0070200003-511602000000-000-1151130108778239R-1-00"  # 社会保障卡申领
COMPANY = "511A0064100070-511602000000-000-115113016823646795-1-00"


def _snap(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"guide-{name}.png"), full_page=True)
    shot(page, f"guide-{name}")


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _ask(page, question: str) -> None:
    page.fill("[data-testid=guide-input]", question)
    page.click("[data-testid=guide-ask]")
    page.wait_for_selector("[data-testid=guide-question]")


@pytest.fixture
def catalogue(seeded):
    from tests.conftest import shared_data_dir
    from tongban.catalog.demo import loader
    from tongban.guide import index

    if shared_data_dir() is None:
        pytest.skip("shared data (TONGBAN_DATA_DIR) is not here")
    loader.load_catalogue_list()
    loader.load_detail()
    index.invalidate()
    yield
    index.invalidate()


def test_a_citizen_asks_on_a_phone_gets_a_card_and_applies_from_it(browser, live_server, catalogue):
    from tongban.cases.models import Case
    from tongban.guide.models import Click
    from tongban.hotline.models import OrderType, WorkOrder

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        # Logged in as the citizen 张三 (demo, L2).
        page.goto(live_server.url + "/accounts/login")
        page.fill("#id_username", "zhangsan")
        page.fill("#id_password", settings.TONGBAN_DEMO_PASSWORD)
        page.click("[data-testid=login-submit]")
        page.wait_for_url(live_server.url + "/")

        page.goto(live_server.url + "/services/")
        page.click("[data-testid=guide-link]")
        page.wait_for_url(live_server.url + "/guide/")
        _ask(page, "第一次办社保卡要带什么")
        first = page.locator("[data-testid=guide-card]").first
        assert first.get_attribute("data-code") == CARD
        text = first.inner_text()
        assert "社会保障卡申领" in text and "区人力资源和社会保障局" in text.replace("广安区", "区")
        assert "居民身份证或户口簿" in text  # the materials
        assert "10 个工作日" in text or "10个工作日" in text  # the promised limit
        assert "首次申领不收费" in text
        _fits(page)
        _snap(page, "card-phone")

        # The large-text mode keeps the card readable and inside the screen.
        page.click("[data-testid=care-toggle]")
        page.wait_for_selector("html.care")
        page.wait_for_selector("[data-testid=guide-card]")
        size = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('[data-testid=guide-card] h2')).fontSize)"
        )
        assert size >= 22
        _fits(page)
        _snap(page, "card-phone-care")
        page.click("[data-testid=care-toggle]")
        page.wait_for_selector("html:not(.care)")

        # One word, two services: it asks back, and the choice puts that service first.
        _ask(page, "我想办营业执照")
        assert "个体工商户还是公司" in page.locator("[data-testid=guide-clarify]").inner_text()
        _snap(page, "clarify-phone")
        page.locator("[data-testid=guide-option]", has_text="公司").click()
        page.wait_for_selector("[data-testid=guide-card]")
        assert page.locator("[data-testid=guide-card]").first.get_attribute("data-code") == COMPANY

        # Nothing fits: it says so and hands the question to a person.
        _ask(page, "今天天气怎么样")
        page.wait_for_selector("[data-testid=guide-declined]")
        _snap(page, "declined-phone")
        page.click("[data-testid=guide-handoff]")
        page.wait_for_url("**/hotline/orders/**")
        order = WorkOrder.objects.get(text__contains="今天天气怎么样")
        assert order.order_type == OrderType.CONSULTATION

        # Back to the card, and apply from it.
        page.goto(live_server.url + "/guide/")
        _ask(page, "第一次办社保卡要带什么")
        page.locator("[data-testid=guide-card]").first.locator("[data-testid=guide-apply]").click()
        page.wait_for_selector("[data-testid=apply-form]")
        assert Click.objects.filter(item_code=CARD, action="apply").count() == 1
        for name, value in (
            ("data.applicant_name", "张三"),
            ("data.phone", "13800000001"),
            ("data.mailing_address", "广安区建设路 1 号"),
        ):
            field = page.locator(f'[name="{name}"]')
            if not field.input_value():
                field.fill(value)
        id_field = page.locator('[name="data.applicant_id_number"]')
        if not id_field.input_value():
            from tongban.accounts.models import Person

            id_field.fill(Person.objects.get(user__username="zhangsan").id_number)
        page.locator('[name="data.card_bank"]').select_option(index=1)
        page.locator('[name="data.pickup_method"]').select_option(index=1)
        _fits(page)
        _snap(page, "apply-phone")
        page.click("[data-testid=apply-submit]")
        page.wait_for_selector("[data-testid=receipt]")
        number = page.locator("[data-testid=receipt-number]").inner_text()
        assert Case.objects.get(number=number).item_version.item.code == CARD
        _fits(page)
        _snap(page, "receipt-phone")
        assert not problems, problems
    finally:
        context.close()
