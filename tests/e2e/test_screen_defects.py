"""Defects a user sees on screen (issue 12), each checked in headless Chromium as the user meets it:
legends that collapse into a 12-pixel box, a site without an icon."""

import re

import pytest
from django.conf import settings

from tests.e2e.conftest import shot, staff_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_calendar_legend_reads_left_to_right(page):
    """A `.legend` rule meant for colour swatches shrank every legend to 12×12 px, so its words ran
    down the page behind the content."""
    staff_login(page, "admin")
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


def test_the_citizen_home_is_a_personal_centre_with_masked_numbers(page):
    """Issue 12, defect 3: the home after login showed no pending 补正 nor links, but the full ID
    and phone numbers. Checked on a phone-sized screen, as most citizens see it."""
    from tongban.accounts.models import Person
    from tongban.cases import demo as case_demo
    from tongban.catalog.demo import loader

    loader.load_detail()
    case_demo.load_sample_cases()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base_url + "/accounts/login")
    page.fill("#id_username", "zhangsan")
    page.fill("#id_password", settings.TONGBAN_DEMO_PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(page.base_url + "/")
    person = Person.objects.get(user__username="zhangsan")
    assert page.locator("[data-testid=my-id-number]").inner_text() == person.id_number_masked
    assert page.locator("[data-testid=count-supplement] .stat").inner_text() == "1"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "citizen-home-phone")
    page.click("[data-testid=count-supplement]")
    page.wait_for_url(re.compile(r"/my/cases/\?status=supplement"))
    assert page.locator("[data-case]").count() == 1
    page.go_back()
    page.click("[data-testid=reveal]")
    page.wait_for_url(re.compile(r"reveal=1"))
    assert page.locator("[data-testid=my-id-number]").inner_text() == person.id_number
