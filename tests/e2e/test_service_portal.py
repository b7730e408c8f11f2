"""A citizen on a phone finds a service by everyday words and reads its guide."""

import pytest

from tests.e2e.conftest import shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_citizen_finds_the_food_licence_by_asking_to_open_a_restaurant(browser, live_server, seeded):
    from tongban.catalog.demo.loader import load_detail

    load_detail()
    context = browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        page.fill("#landing-q", "我想开个饭店")
        page.keyboard.press("Enter")
        page.wait_for_selector("[data-testid=search-results]")
        first = page.locator("[data-testid=search-results] li a").first
        assert "食品" in first.inner_text() and "经营许可" in first.inner_text()
        first.click()
        page.wait_for_selector("[data-testid=guide-title]")
        materials = page.locator("[data-testid=materials]").inner_text()
        assert "免提交" in materials  # the business licence is already held by the government
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "citizen-guide-phone")
    finally:
        context.close()
