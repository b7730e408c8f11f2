"""Browser journeys in headless Debian chromium: what a clerk and a citizen actually do."""

import re

import pytest
from django.conf import settings

from tests.conftest import totp_for
from tests.e2e.conftest import shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _login(page, username, *, totp=True):
    page.goto(page.base_url + "/accounts/login")
    page.fill("#id_username", username)
    page.fill("#id_password", settings.TONGBAN_DEMO_PASSWORD)
    page.click("[data-testid=login-submit]")
    if totp:
        page.wait_for_url(re.compile(r"/accounts/mfa/verify"))
        page.fill("#id_otp_token", totp_for(username))
        page.click("[data-testid=otp-submit]")
    page.wait_for_url(page.base_url + "/")


def test_clerk_logs_in_with_totp_switches_language_and_care_mode_and_logs_out(page):
    _login(page, "clerk")
    assert (
        page.locator("html").get_attribute("lang") == "zh-Hans"
    )  # Chinese although the browser asks English
    assert page.locator("h1").inner_text() == "工作台"
    assert page.locator("[data-testid=whoami]").inner_text().startswith("王晓窗")
    nav = page.locator("#sidenav").inner_text()
    assert "查找申请人" in nav and "审计日志" not in nav
    shot(page, "clerk-home-zh")

    page.click("[data-testid=lang-en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Workbench"
    assert "Find applicant" in page.locator("#sidenav").inner_text()

    normal = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    page.click("[data-testid=care-toggle]")
    page.wait_for_load_state()
    assert "care" in (page.locator("html").get_attribute("class") or "")
    large = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert large >= normal * 1.25, (normal, large)
    assert page.locator("[data-testid=care-toggle]").get_attribute("aria-pressed") == "true"
    shot(page, "clerk-home-en-care")

    # Both choices survive navigation.
    page.goto(page.base_url + "/org/staff")
    assert page.locator("h1").inner_text() == "Staff"
    assert "care" in (page.locator("html").get_attribute("class") or "")

    page.click("[data-testid=logout]")
    page.wait_for_url(re.compile(r"/accounts/login"))
    assert page.locator("[data-testid=login-form]").is_visible()
    page.goto(page.base_url + "/org/staff")
    assert "/accounts/login" in page.url


def test_wrong_totp_is_refused_in_the_browser(page):
    page.goto(page.base_url + "/accounts/login")
    page.fill("#id_username", "reviewer")
    page.fill("#id_password", settings.TONGBAN_DEMO_PASSWORD)
    page.click("[data-testid=login-submit]")
    page.fill("#id_otp_token", "000000")
    page.click("[data-testid=otp-submit]")
    assert page.locator(".field-error").inner_text()
    assert "/accounts/mfa/verify" in page.url


def test_citizen_on_a_phone(browser, live_server, seeded):
    context = browser.new_context(viewport={"width": 375, "height": 760}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.base_url = live_server.url
    try:
        _login(page, "zhangsan", totp=False)
        assert page.locator("h1").inner_text().startswith("您好")
        # On a phone the navigation folds behind the menu button.
        assert not page.locator("#sidenav").is_visible()
        page.click("[data-nav-toggle]")
        assert page.locator("#sidenav").is_visible()
        page.click("#sidenav >> text=我的企业")
        page.wait_for_url(re.compile(r"/accounts/enterprises"))
        assert "广安区示例餐饮有限公司" in page.content()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"page scrolls sideways on a phone ({width}px)"
        shot(page, "citizen-phone")
    finally:
        context.close()
