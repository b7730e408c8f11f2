"""Policy matching in headless chromium: the data officer runs matching for the enterprise-service
section; the restaurant's legal representative sees the policies it qualifies for, each condition
with its result, a 免申即享 grant, and contests the grant."""

import re

import pytest
from django.conf import settings

from tests.e2e.conftest import shot, staff_login, watch_console

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_enterprise_sees_a_policy_it_qualifies_for_with_reasons_and_a_grant(page):
    from tongban.exchange import demo as exchange_demo
    from tongban.proactive import demo
    from tongban.proactive.models import Benefit, BenefitStatus, MatchRun, PolicyOutcome

    exchange_demo.load_exchange()
    demo.load_policies()
    problems = watch_console(page)

    staff_login(page, "data_officer")
    page.click("nav.sidenav a[href='/policies/manage/']")
    page.wait_for_url(re.compile(r"/policies/manage/$"))
    page.select_option("#run-department", demo.DEPARTMENT)
    page.click("[data-testid=run-submit]")
    page.wait_for_selector(".alert-success")
    run = MatchRun.objects.get()
    assert run.granted > 0 and run.reference in page.locator(".alert-success").inner_text()
    page.click("tr[data-policy=wengang-fanhuan] [data-testid=results-link]")
    page.wait_for_selector("[data-testid=qualified-table]")
    outcome = PolicyOutcome.objects.get(policy__code="wengang-fanhuan")
    rows = page.locator("[data-testid=qualified-table] tbody tr")
    assert rows.count() == min(50, outcome.qualified) > 0
    assert rows.first.locator("[data-verdict=true]").count() == 5  # every condition met, each shown
    counts = page.locator("[data-testid=outcome-counts]").inner_text()
    assert run.reference in counts and str(outcome.qualified) in counts
    shot(page, "policy-results")
    page.context.clear_cookies()

    page.goto(page.base_url + "/accounts/login")
    page.fill("#id_username", "zhangsan")
    page.fill("#id_password", settings.TONGBAN_DEMO_PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(page.base_url + "/")
    page.click("nav.sidenav a[href='/policies/']")
    page.wait_for_url(re.compile(rf"/policies/enterprises/{demo.RESTAURANT}/"))

    match = page.locator("[data-testid=policy-match][data-policy=wengang-fanhuan]")
    assert match.get_attribute("data-outcome") == "qualified"
    reasons = match.locator("[data-testid=reason]")
    assert reasons.count() == 5
    assert match.locator("[data-verdict=true]").count() == 5
    assert "无欠税" in reasons.nth(4).inner_text()
    assert page.locator("[data-testid=policy-match][data-policy=chuangye-tiexi]").count() == 1
    assert page.locator("[data-testid=policy-match][data-policy=gaoxin-jiangli]").count() == 0
    grant = page.locator("[data-testid=benefit][data-policy=wengang-fanhuan]")
    assert grant.get_attribute("data-status") == "granted"
    assert "60%" in grant.inner_text()
    shot(page, "policy-enterprise")

    grant.locator("[data-testid=contest-open]").click()
    grant.locator("textarea[name=reason]").fill("上年度裁员数据有误")
    grant.locator("[data-testid=contest-submit]").click()
    page.wait_for_selector(".alert-success")
    grant = page.locator("[data-testid=benefit][data-policy=wengang-fanhuan]")
    assert grant.get_attribute("data-status") == "contested"
    benefit = Benefit.objects.get(policy__code="wengang-fanhuan", subject_key=demo.RESTAURANT)
    assert benefit.status == BenefitStatus.CONTESTED and benefit.contest_reason == "上年度裁员数据有误"
    assert problems == []
