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


def test_an_entrepreneur_uses_the_enterprise_tab_and_a_life_event_tile(browser, live_server, seeded):
    from tongban.catalog.demo.loader import load_detail

    load_detail()
    context = browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/services/")
        tabs = page.locator("[data-testid=audience-tabs] a")
        assert tabs.nth(0).get_attribute("aria-current") == "page"  # 个人服务 first, as nationally
        tabs.nth(1).click()
        page.wait_for_url("**/services/?for=enterprise")
        tiles = page.locator("[data-testid=life-events] a")
        assert tiles.count() >= 5
        page.locator("[data-testid=life-events] a", has_text="经营许可").click()
        page.wait_for_selector("[data-testid=event-results]")
        results = page.locator("[data-testid=event-results] li a")
        names = [results.nth(i).inner_text() for i in range(results.count())]
        assert any("食品" in name and "许可" in name for name in names), names
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "portal-enterprise-tab-phone")
    finally:
        context.close()
