"""12345 in headless chromium: an operator takes a call and accepts the router's suggestion, the
department handles the order, the centre reviews it and calls back, and the three rates change."""

import random
import re

import pytest

from tests.e2e.conftest import shot, staff_login, watch_console
from tests.hotline.conftest import category
from tests.hotline.test_router import VOCAB, message

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def trained_router(settings, tmp_path):
    """A small router trained in the test (the shared data would take minutes)."""
    from tongban.hotline import router

    settings.VAR_DIR = tmp_path
    router._loaded.clear()
    rng = random.Random(3)
    rows = [(message(label, rng, segmented=True), label) for label in VOCAB for _ in range(30)]
    router.save(router.train([t for t, _ in rows], [lab for _, lab in rows], folds=3))
    yield
    router._loaded.clear()


def _rates_row(page) -> str:
    page.goto(page.base_url + "/hotline/rates")
    row = page.locator('[data-testid=rates-table] tr[data-department="zjj"]')
    return row.inner_text() if row.count() else ""


def test_a_call_from_the_operator_to_the_callback_changes_the_rates(page, browser, trained_router):
    category("城乡建设", "zjj")
    category("劳动和社会保障", "rsj")
    category("教育文体")
    problems = watch_console(page)
    staff_login(page, "operator")
    assert _rates_row(page) == ""

    page.goto(page.base_url + "/hotline/console")
    page.fill("input[name=phone]", "13800001234")
    page.fill("input[name=requester_name]", "赵六")
    page.locator("textarea[name=text]").press_sequentially("小区物业不管，垃圾清运太慢，路灯也坏了。")
    suggested = page.locator("[data-testid=suggested-category]")
    suggested.wait_for()
    assert suggested.inner_text() == "城乡建设"
    page.click("[data-testid=accept-suggestion]")
    assert page.input_value("input[name=category]") == "城乡建设"
    assert page.input_value("select[name=department_code]") == "zjj"
    page.select_option("select[name=order_type]", "complaint")
    page.fill("input[name=address]", "广安区建设路12号")
    shot(page, "hotline-console")
    page.click("[data-testid=record]")
    page.wait_for_url(re.compile(r"/hotline/orders/H\d{14}/$"))
    number = page.locator("[data-testid=order-number]").inner_text()
    assert page.locator("[data-testid=order-status]").get_attribute("data-status") == "dispatched"

    handler_context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    handler = handler_context.new_page()
    handler.set_default_timeout(15_000)
    handler.base_url = page.base_url
    staff_login(handler, "handler_zj")
    handler.goto(handler.base_url + "/hotline/")
    handler.click(f"text={number}")
    assert "赵*" in handler.locator("[data-testid=requester]").inner_text()
    handler.click("[data-testid=action-accept]")
    handler.click("[data-testid=action-contact]")
    handler.fill("textarea[name=reply-text]", "已安排环卫当天清运，路灯已修复。")
    handler.select_option("select[name=reply-outcome]", "solved")
    handler.click("[data-testid=action-reply]")
    handler.locator("[data-testid=reply]").wait_for()
    assert handler.locator("[data-testid=order-status]").get_attribute("data-status") == "replied"
    handler_context.close()

    page.goto(page.base_url + f"/hotline/orders/{number}/")
    page.check("input[name=review-accept][value='1']")
    page.click("[data-testid=action-review]")
    page.locator("[data-testid=form-callback]").wait_for()
    page.check("input[name=callback-contacted][value='1']")
    page.select_option("select[name=callback-solved]", "solved")
    page.select_option("select[name=callback-satisfaction]", "satisfied")
    page.click("[data-testid=action-callback]")
    page.wait_for_selector("[data-testid=order-status][data-status=closed]")
    history = page.locator("[data-testid=history]").inner_text()
    assert "回访" in history and "工单办结" in history  # zh-Hans first
    shot(page, "hotline-closed")

    row = _rates_row(page)
    assert "100%" in row and "(1/1)" in row
    shot(page, "hotline-rates")
    assert problems == []
