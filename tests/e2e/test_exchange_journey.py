"""Data sharing in headless chromium: the data officer approves a grant (as the provider, then as the
data authority), sees the consumer's calls in the call log, and finds the dirty rows in a quality report."""

import datetime as dt
import re

import pytest

from tests.e2e.conftest import shot, staff_login, watch_console
from tests.exchange.conftest import LISI, ZHANGSAN, population_row, spec

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _status(page) -> str:
    return page.locator("[data-testid=grant-status]").get_attribute("data-status")


def _population_with_a_pending_grant() -> str:
    from tongban.core.authz import SYSTEM
    from tongban.exchange import services

    services.save_resource(SYSTEM, **spec("population"))
    wrong = ZHANGSAN[:17] + ("0" if ZHANGSAN[17] != "0" else "1")
    services.import_rows(
        SYSTEM,
        "population",
        [
            population_row(ZHANGSAN, "张三"),
            population_row(LISI, "李四"),
            population_row(wrong, "错号"),  # a wrong check character
            population_row(LISI, "李四", updated="2015/1/1"),  # a duplicate, and stale
        ],
    )
    grant = services.request_grant(
        SYSTEM,
        consumer_code="ybj",
        resource_code="population",
        fields=["status"],
        purpose="医保参保登记核验户籍",
        legal_basis="《社会保险法》",
        valid_until=dt.date.today() + dt.timedelta(days=365),
    )
    return grant.reference


def test_the_data_officer_approves_a_grant_sees_the_calls_and_the_dirty_rows(page):
    from tongban.core.authz import SYSTEM
    from tongban.exchange import services

    reference = _population_with_a_pending_grant()
    problems = watch_console(page)
    staff_login(page, "data_officer")
    page.click("nav.sidenav a[href='/exchange/grants/']")
    page.select_option("#id_status", "pending")
    page.wait_for_url(re.compile(r"status=pending"))
    page.click(f"a[href='/exchange/grants/{reference}/']")
    assert _status(page) == "pending"
    page.fill("#id_note", "同意，最小必要")
    page.click("[data-testid=approve]")
    page.wait_for_selector(".alert-success")
    assert _status(page) == "provider_approved"
    page.click("[data-testid=approve]")
    page.wait_for_selector(".alert-success")
    assert _status(page) == "approved"
    shot(page, "exchange-grant-approved")

    # The consumer's system now calls; one call asks for a field outside the grant.
    services.verify(
        SYSTEM, "population", "registered", subject=ZHANGSAN, purpose="医保参保", department_code="ybj"
    )
    with pytest.raises(services.Refused):
        services.query(
            SYSTEM, "population", subject=LISI, fields=["address"], purpose="医保参保", department_code="ybj"
        )

    page.click("nav.sidenav a[href='/exchange/calls/']")
    page.wait_for_url(re.compile(r"/exchange/calls/"))
    page.wait_for_selector("[data-testid=call-stats] svg rect")
    rows = page.locator("[data-testid=call-table] tbody tr")
    assert rows.count() == 2
    assert "outside_grant" in rows.nth(0).inner_text() and "registered" in rows.nth(1).inner_text()
    stats = page.locator("[data-testid=stats-table] tbody tr").first.inner_text()
    assert "广安区医疗保障局" in stats
    assert page.locator("[data-testid=call-stats] svg rect").count() == 3
    shot(page, "exchange-call-log")

    page.click("nav.sidenav a[href='/exchange/']")
    page.click("a[href='/exchange/resources/population/']")
    page.wait_for_selector("[data-testid=dirty-rows] tbody tr")
    assert page.locator("[data-testid=q-bad-key]").inner_text() == "1"
    dirty = page.locator("[data-testid=dirty-rows] tbody tr")
    assert dirty.count() == 3  # the wrong check character and both copies of the duplicate
    assert [dirty.nth(i).locator("td").first.inner_text() for i in range(3)] == ["2", "3", "4"]
    assert "checksum" in dirty.nth(1).inner_text() and "511602********" in dirty.nth(1).inner_text()
    page.select_option("#id_problem", "stale")
    page.wait_for_url(re.compile(r"problem=stale"))
    assert page.locator("[data-testid=dirty-rows] tbody tr").count() == 1
    shot(page, "exchange-quality")
    assert problems == []
