"""Defects a user sees on screen (issue 12), each checked in headless Chromium as the user meets it:
legends that collapse into a 12-pixel box, a site without an icon."""

import re

import pytest
from django.conf import settings

from tests.conftest import totp_for
from tests.e2e.conftest import shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _login(page, username):
    page.goto(page.base_url + "/accounts/login")
    page.fill("#id_username", username)
    page.fill("#id_password", settings.TONGBAN_DEMO_PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(re.compile(r"/accounts/mfa/verify"))
    page.fill("#id_otp_token", totp_for(username))
    page.click("[data-testid=otp-submit]")
    page.wait_for_url(page.base_url + "/")


def test_the_calendar_legend_reads_left_to_right(page):
    """A `.legend` rule meant for colour swatches shrank every legend to 12×12 px, so its words ran
    down the page behind the content."""
    _login(page, "admin")
    page.goto(page.base_url + "/calendar/")
    legend = page.locator(".legend").first
    box = legend.bounding_box()
    assert box["width"] > 200, box
    for item in legend.locator("span").all():
        item_box = item.bounding_box()
        assert item_box["width"] > item_box["height"], item.inner_text()
    shot(page, "calendar-legend")


def test_every_page_names_its_icon_and_the_icon_is_served(page):
    page.goto(page.base_url + "/")
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert href.endswith(".svg")
    assert page.request.get(page.base_url + href).status == 200
    response = page.request.get(page.base_url + "/favicon.ico")
    assert response.status == 200 and "svg" in response.headers["content-type"]
