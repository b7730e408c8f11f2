"""实名认证 in the browser: a citizen registers on a phone, checks name and ID number against the
population register (L1), proves the mobile number with the code the console sender wrote (L2) and
then sees their licence wallet; a window clerk binds a number that another account held, after
checking the ID card. Screenshots: /tmp/shots/identity-*.png."""

import datetime as dt
import re
from pathlib import Path

import pytest

from tests.e2e.test_citizen_journeys import DESKTOP, PHONE, _context, _fits
from tests.e2e.test_login_journey import _login as _staff_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")  # noqa: S108  (where reviewers look at the pictures; nothing is read back)
HOLDER_NAME = "王小明"
PHONE_NUMBER = "13912345678"
PASSWORD = "a-long-password-2026"


def _snap(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"identity-{name}.png"), full_page=True)


def _holder_number() -> str:
    from tongban.accounts.seed import demo_id_number

    return demo_id_number("511602", dt.date(1988, 5, 20), 41)


@pytest.fixture
def city(seeded, settings, tmp_path):
    """The register that answers real-name checks, the portal's grant, and a licence held by the
    person who is about to register; the SMS outbox of this test."""
    from tests.exchange.conftest import population_row, spec
    from tongban.core.authz import SYSTEM
    from tongban.exchange import services as exchange
    from tongban.licences import demo as licence_demo
    from tongban.licences import services as licences

    settings.TONGBAN_SMS_OUTBOX = tmp_path / "sms-outbox.jsonl"
    exchange.save_resource(SYSTEM, **spec("population"))
    exchange.import_rows(SYSTEM, "population", [population_row(_holder_number(), HOLDER_NAME)])
    grant = exchange.request_grant(
        SYSTEM,
        consumer_code="ggb",
        resource_code="population",
        fields=["name", "status"],
        purpose="统一身份认证：实名核验",
        legal_basis="《网络安全法》第二十四条",
        valid_until=dt.date.today() + dt.timedelta(days=30),
    )
    exchange.decide(SYSTEM, grant.reference, approve=True)
    exchange.decide(SYSTEM, grant.reference, approve=True)
    licence_demo.load_types()
    licences.issue(
        SYSTEM,
        "resident_id",
        holder_id=_holder_number(),
        holder_name=HOLDER_NAME,
        fields={"address": "建设路12号", "issuing_authority": "广安市公安局广安区分局"},
    )


def _register(page, username: str) -> None:
    page.goto(page.base_url + "/accounts/register")
    page.fill("#id_name", HOLDER_NAME)
    page.fill("#id_id_number", _holder_number())
    page.fill("#id_phone", PHONE_NUMBER)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=register-form] button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/identity$"))


def test_a_citizen_registers_verifies_to_l2_and_opens_the_wallet(browser, live_server, city):
    from tongban.core import sms

    context, page = _context(browser, live_server, PHONE)
    try:
        _register(page, "wangxm")
        level = page.locator("[data-testid=identity-level]")
        assert level.get_attribute("data-level") == "0"
        assert "实名认证" in page.locator(".alert").first.inner_text()
        _fits(page, PHONE["width"])
        _snap(page, "l0-phone")
        # Below L2 the wallet says why and where to go, instead of listing anything.
        page.goto(page.base_url + "/me/licences/")
        assert "L2" in page.locator("[data-testid=refusal-reason]").inner_text()
        page.click("[data-testid=refusal-link]")
        page.wait_for_url(re.compile(r"/accounts/identity$"))

        page.click("[data-testid=verify-real-name]")
        page.wait_for_url(re.compile(r"/accounts/identity$"))
        assert page.locator("[data-testid=identity-level]").get_attribute("data-level") == "1"
        assert page.locator("#id_phone").input_value() == PHONE_NUMBER
        page.click("[data-testid=send-code]")
        page.wait_for_selector("[data-testid=confirm-code]")
        assert "139****5678" in page.locator(".alert").first.inner_text()
        code = sms.outbox(PHONE_NUMBER, last=1)[-1]["params"]["code"]  # the demo's "phone"
        page.fill("#id_code", code)
        _snap(page, "l1-code")
        page.click("[data-testid=confirm-code]")
        page.wait_for_url(re.compile(r"/accounts/identity$"))
        assert page.locator("[data-testid=identity-level]").get_attribute("data-level") == "2"
        assert page.locator("[data-testid=face-check-unavailable]").is_visible()
        _snap(page, "l2-phone")

        page.goto(page.base_url + "/me/licences/")
        cards = page.locator("[data-testid=wallet-licence]")
        assert cards.count() == 1 and cards.first.get_attribute("data-type") == "resident_id"
        _fits(page, PHONE["width"])
        _snap(page, "wallet-phone")
    finally:
        context.close()


def test_a_clerk_gives_a_taken_number_back_to_its_holder(browser, live_server, city):
    from tongban.accounts.models import Person, User

    squatter = User.objects.create_user("squatter", PASSWORD, display_name="攻击者", kind="citizen")
    Person.objects.create(name="攻击者", id_number=_holder_number(), user=squatter)

    context, page = _context(browser, live_server, PHONE)
    try:
        _register(page, "realwang")
        page.click("[data-testid=verify-real-name]")
        page.wait_for_url(re.compile(r"/accounts/identity$"))
        # The holder hears what anyone whose check failed hears: go to a window.
        assert "窗口" in page.locator(".alert").first.inner_text()
        assert page.locator("[data-testid=identity-level]").get_attribute("data-level") == "0"
    finally:
        context.close()

    context, page = _context(browser, live_server, DESKTOP)
    try:
        _staff_login(page, "clerk")
        page.click("#sidenav >> text=实名核验")
        page.wait_for_url(re.compile(r"/window/identity$"))
        rows = page.locator("[data-testid=claims] tbody tr")
        assert rows.count() == 1 and "realwang" in rows.first.inner_text()
        assert _holder_number() not in page.content()
        rows.first.locator("a").click()
        assert page.locator("[data-testid=rebinding]").is_visible()
        form = page.locator("[data-testid=approve-form]")
        form.locator("#id_id_number").fill(_holder_number())
        form.locator("#id_name").fill(HOLDER_NAME)
        form.locator("#id_checked").check()
        _snap(page, "clerk-claim")
        form.locator("button[type=submit]").click()
        page.wait_for_url(re.compile(r"/window/identity$"))
        assert "L3" in page.locator(".alert").first.inner_text()
    finally:
        context.close()
    assert Person.objects.get(user__username="realwang").assurance_level == 3
    assert not Person.objects.filter(user__username="squatter").exists()
