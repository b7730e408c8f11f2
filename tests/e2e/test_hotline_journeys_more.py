"""12345 in headless chromium, the journeys the issue lists beside the call: a returned order is
arbitrated; a hotspot warning appears when 20 similar orders arrive; a citizen files on a phone and
follows a duplicate instead of filing it again."""

import re

import pytest

from tests.e2e.conftest import shot, staff_login, watch_console
from tests.hotline.conftest import category

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LAMP = "幸福小区3号楼门口的路灯坏了一个多月，晚上一片漆黑，老人出门很危险，请尽快修好。"
LAMP_AGAIN = "幸福小区3号楼门口路灯坏了一个多月了，晚上漆黑一片，老人出门很危险，希望尽快修复。"


def _actor(username):
    from tongban.accounts.actors import Actor
    from tongban.accounts.models import User

    return Actor(User.objects.get(username=username))


def _staff_page(browser, base_url, username):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base_url = base_url
    staff_login(page, username)
    return context, page


def test_a_returned_order_is_arbitrated_and_goes_to_the_right_department(page, browser):
    from tongban.hotline import services

    category("城乡建设", "zjj")
    category("劳动和社会保障", "rsj")
    order = services.create_order(
        _actor("operator"),
        channel="phone",
        text="单位拖欠工资三个月，劳动合同也不给签，要求依法处理。",
        order_type="complaint",
        requester_name="吴十",
        phone="13800004321",
        category="城乡建设",
        dispatch=True,
    )
    problems = watch_console(page)

    # the department it was wrongly sent to returns it, with its reason
    handler_context, handler = _staff_page(browser, page.base_url, "handler_zj")
    handler.goto(handler.base_url + f"/hotline/orders/{order.number}/")
    handler.fill("textarea[name=return-reason]", "拖欠工资属劳动保障监察职责，不属本部门。")
    handler.click("[data-testid=action-return]")
    handler.wait_for_selector("[data-testid=order-status][data-status=returned]")
    handler_context.close()

    # the centre sees the return in its list and arbitrates: upheld, to the labour bureau
    staff_login(page, "operator")
    page.goto(page.base_url + "/hotline/?status=returned")
    page.click(f"text={order.number}")
    assert page.locator("[data-testid=order-status]").get_attribute("data-status") == "returned"
    assert "不属本部门" in page.locator("[data-testid=assignment-table]").inner_text()
    form = page.locator("[data-testid=form-arbitrate]")
    form.locator("input[name=arbitrate-uphold][value='1']").check()
    form.locator("select[name=arbitrate-department]").select_option("rsj")
    shot(page, "hotline-arbitrate")
    page.click("[data-testid=action-arbitrate]")
    page.wait_for_selector("[data-testid=order-status][data-status=dispatched]")
    assert page.locator("[data-testid=department]").inner_text() == "广安区人力资源和社会保障局"
    decided = page.locator("[data-testid=assignment-table] td[data-arbitration=upheld]")
    assert decided.inner_text() == "退单成立"
    assert "退单" in page.locator("[data-testid=history]").inner_text()

    # the labour bureau now holds it; the bureau that returned it no longer does
    rs_context, rs = _staff_page(browser, page.base_url, "handler_rs")
    rs.goto(rs.base_url + "/hotline/")
    rs.click(f"text={order.number}")
    rs.click("[data-testid=action-accept]")
    rs.wait_for_selector("[data-testid=order-status][data-status=in_progress]")
    rs_context.close()
    zj_context, zj = _staff_page(browser, page.base_url, "handler_zj")
    zj.goto(zj.base_url + f"/hotline/orders/{order.number}/")
    assert zj.locator("[data-testid=action-accept]").count() == 0
    zj_context.close()
    assert problems == []


def test_a_hotspot_warning_appears_when_20_similar_orders_arrive(page, settings):
    from tongban.hotline import services
    from tongban.hotline.duplicates import DEFAULTS

    settings.TONGBAN_HOTLINE_SIMILAR = {**DEFAULTS, "warn_recent": 20, "warn_growth": 3.0}
    category("城乡建设", "zjj")
    operator = _actor("operator")
    tellings = [
        "幸福小区门口的下水道堵了污水漫到路上，臭气熏天",
        "幸福小区大门口下水道又堵了，污水漫到路面上很臭",
        "幸福小区门口下水道堵塞，污水溢到路上，气味很大",
        "幸福小区门前的下水道堵了好几天，污水都漫到路上了",
    ]
    for i in range(19):
        services.create_order(
            operator,
            channel="phone",
            text=f"{tellings[i % 4]}，第{i + 1}位来电。",
            order_type="complaint",
            requester_name=f"来电人{i + 1}",
            address="广安区幸福小区",
        )
    problems = watch_console(page)
    staff_login(page, "operator")
    page.goto(page.base_url + "/hotline/hotspots")
    assert page.locator("[data-testid=hotspot-warnings]").count() == 0
    assert "19" in page.locator("[data-testid=hotspot-table]").inner_text()

    # the twentieth call comes in through the console
    page.goto(page.base_url + "/hotline/console")
    page.fill("input[name=requester_name]", "来电人20")
    page.fill("textarea[name=text]", "幸福小区门口下水道堵了，污水漫到路上，已经第三天了")
    page.select_option("select[name=order_type]", "complaint")
    page.fill("input[name=address]", "广安区幸福小区")
    page.uncheck("input[name=dispatch]")
    page.click("[data-testid=record]")
    page.wait_for_url(re.compile(r"/hotline/orders/H\d{14}/$"))

    page.goto(page.base_url + "/hotline/hotspots")
    warning = page.locator("[data-testid=hotspot-warnings] li")
    warning.first.wait_for()
    assert warning.count() == 1
    assert "20" in warning.first.inner_text() and "下水道" in warning.first.inner_text()
    shot(page, "hotline-hotspot-warning")
    assert problems == []


def test_a_citizen_files_on_a_phone_and_follows_a_duplicate(browser, live_server, seeded):
    from django.conf import settings as django_settings

    from tongban.hotline import services
    from tongban.hotline.models import Requester, WorkOrder

    category("城乡建设", "zjj")
    earlier = services.create_order(
        _actor("operator"),
        channel="phone",
        text=LAMP,
        order_type="complaint",
        requester_name="赵六",
        phone="13800001234",
        address="广安区幸福小区3号楼",
    )
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = watch_console(page)
    base = live_server.url
    page.goto(base + "/accounts/login")
    page.fill("#id_username", "zhangsan")
    page.fill("#id_password", django_settings.TONGBAN_DEMO_PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(base + "/")

    # first something new: filed, with the order number to follow it by
    page.goto(base + "/hotline/mine")
    page.click("[data-testid=new-order]")
    page.fill("textarea[name=text]", "建议在滨河公园增设几处饮水点，夏天散步的人很多。")
    page.select_option("select[name=order_type]", "suggestion")
    page.fill("input[name=address]", "广安区滨河公园")
    page.click("[data-testid=submit]")
    page.wait_for_url(re.compile(r"/hotline/orders/H\d{14}/$"))
    filed = page.locator("[data-testid=order-number]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # then the street lamp: someone has told the centre already, so the citizen follows that order
    page.goto(base + "/hotline/new")
    page.locator("textarea[name=text]").press_sequentially(LAMP_AGAIN[:30])
    page.fill("textarea[name=text]", LAMP_AGAIN)
    page.fill("input[name=address]", "广安区幸福小区3号楼")
    page.locator("textarea[name=text]").dispatch_event("change")
    similar = page.locator(f"[data-testid=similar-{earlier.number}]")
    similar.wait_for()
    assert "赵六" not in similar.inner_text() and "13800001234" not in similar.inner_text()
    shot(page, "hotline-phone-similar")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.click(f"[data-testid=follow-{earlier.number}]")
    page.wait_for_url(base + f"/hotline/orders/{earlier.number}/")
    assert "赵六" not in page.content()

    page.goto(base + "/hotline/mine")
    mine = page.locator("[data-testid=my-orders]").inner_text()
    assert filed in mine and earlier.number in mine
    shot(page, "hotline-phone-mine")
    assert WorkOrder.objects.filter(requester_user__username="zhangsan").count() == 1  # no second lamp order
    assert Requester.objects.filter(order=earlier, user__username="zhangsan", role="follower").exists()
    assert problems == []
    context.close()
