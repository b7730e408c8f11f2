"""A citizen on a phone comments on a public consultation (意见征集), a visitor comments without
logging in; once the period is over the planner moderates (one comment refused as advertising),
answers with an adoption decision, and publishes the adoption report (公示): the citizen reads the
answer, given on time, on the receipt page and in the report, and the report downloads as PDF.
Screenshots: test-results/consultation-*.png."""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.utils import timezone

from tests.e2e.conftest import shot, staff_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _phone(browser, live_server):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base_url = live_server.url
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.problems = problems
    return context, page


def _fits(page) -> None:
    """Nothing sticks out sideways: a phone never scrolls the page left and right."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _consultation():
    from tongban.accounts.actors import Actor
    from tongban.accounts.models import User
    from tongban.programme import consultation as cons

    planner = Actor(User.objects.get(username="supervisor"))
    today = timezone.localdate()
    c = cons.create_consultation(
        planner,
        title="食品经营许可办理流程再造方案（征求意见稿）",
        summary="承诺时限由20个工作日压缩至5个工作日",
        draft="第一条 申请人通过一网通办平台一次提交全部材料。\n第二条 承诺办理时限为5个工作日。",
        department_code="scjgj",
        opens_on=today - dt.timedelta(days=3),
        closes_on=today + dt.timedelta(days=6),
    )
    return cons.publish(planner, c.code)


def _comment(page, code: str, text: str, section: str = "") -> str:
    page.goto(f"{page.base_url}/consultations/")
    page.click(f"[data-consultation={code}] h2 a")
    page.wait_for_url(re.compile(rf"/consultations/{code}/$"))
    if section:
        page.fill("#id_section", section)
    page.fill("#id_text", text)
    page.click("[data-testid=comment-submit]")
    page.wait_for_url(re.compile(rf"/consultations/{code}/receipt/"))
    return page.url


def test_citizen_comments_and_the_adoption_report_is_published_on_time(browser, live_server, seeded, page):
    consultation = _consultation()
    code = consultation.code

    # A citizen, logged in on a phone, finds the consultation and comments on the second article.
    context, phone = _phone(browser, live_server)
    phone.goto(phone.base_url + "/accounts/login")
    phone.fill("#id_username", "zhangsan")
    phone.fill("#id_password", settings.TONGBAN_DEMO_PASSWORD)
    phone.click("[data-testid=login-submit]")
    phone.wait_for_url(phone.base_url + "/")
    receipt = _comment(phone, code, "建议对食品小作坊同样适用5个工作日时限。", section="第二条")
    assert "待审核" in phone.locator("[data-testid=moderation]").inner_text()
    assert "待答复" in phone.locator("[data-testid=answer]").inner_text()
    _fits(phone)
    shot(phone, "consultation-receipt")

    # A visitor comments without logging in (an advertisement, as it turns out).
    visitor_context, visitor = _phone(browser, live_server)
    _comment(visitor, code, "专业代办食品经营许可，价格优惠，请加微信。")
    visitor_context.close()

    # The period is over (moved into the past here, instead of waiting for it).
    from tongban.programme.models import Consultation

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    Consultation.objects.filter(code=code).update(
        opens_on=yesterday - dt.timedelta(days=9), closes_on=yesterday
    )

    # The planner moderates, answers and publishes the adoption report.
    staff_login(page, "supervisor")
    page.goto(f"{page.base_url}/consultations/manage/")
    page.click(f"[data-consultation={code}] a")
    page.wait_for_url(re.compile(rf"/consultations/manage/{code}/$"))
    assert page.locator("[data-comment='1']").get_attribute("data-light") in ("green", "yellow")
    page.select_option("#id_m2_action", "refuse")
    page.select_option("#id_m2_reason", "advertising")
    page.click("[data-testid=moderate-2] button[type=submit]")
    page.wait_for_selector("[data-comment='2'][data-light=on_time]")
    page.select_option("#id_m1_action", "publish")
    page.click("[data-testid=moderate-1] button[type=submit]")
    page.wait_for_selector("[data-testid=decide-1]")
    page.select_option("#id_d1_decision", "partly")
    page.fill("#id_d1_reason", "食品小作坊另行制定办法，时限参照本方案执行。")
    page.click("[data-testid=decide-1] button[type=submit]")
    page.wait_for_selector("[data-comment='1'][data-light=on_time]")
    shot(page, "consultation-manage")
    page.fill("#id_summary", "本次征集共收到意见2条，部分采纳1条，1条为广告信息不予公开。")
    page.click("[data-testid=report-submit]")
    page.wait_for_url(re.compile(rf"/consultations/{code}/report$"))
    assert page.locator("[data-figure=on_time]").inner_text() == "2 / 2"
    assert page.locator("[data-figure=partly]").inner_text() == "1"
    shot(page, "consultation-report")

    # The citizen reads the answer: partly adopted, on time; the report is public and downloads.
    phone.goto(receipt)
    answer = phone.locator("[data-testid=answer]").inner_text()
    assert "部分采纳" in answer and "食品小作坊另行制定办法" in answer
    assert "按时答复" in phone.locator("[data-testid=receipt]").inner_text()
    phone.goto(f"{phone.base_url}/consultations/{code}/")
    phone.click("[data-testid=report-link]")
    phone.wait_for_url(re.compile(rf"/consultations/{code}/report$"))
    table = phone.locator("[data-testid=report-table]").inner_text()
    assert "食品小作坊另行制定办法" in table and "专业代办" not in table
    _fits(phone)
    shot(phone, "consultation-report-phone")
    pdf = phone.request.get(f"{phone.base_url}/consultations/{code}/report.pdf")
    assert pdf.ok and pdf.body()[:4] == b"%PDF"
    phone.goto(phone.base_url + "/inbox/")
    assert "已答复" in phone.content(), phone.locator("main").inner_text()
    assert phone.problems == [], phone.problems
    context.close()
