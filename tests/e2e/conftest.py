import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# (reading TOTP secrets) are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed (make test installs it with apt-get when it can)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server, seeded):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base_url = live_server.url
    yield page
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def staff_login(page, username: str) -> None:
    """A demo staff member logs in with password and second factor, landing on the workbench."""
    import re

    from django.conf import settings

    from tests.conftest import totp_for

    page.goto(page.base_url + "/accounts/login")
    page.fill("#id_username", username)
    page.fill("#id_password", settings.TONGBAN_DEMO_PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(re.compile(r"/accounts/mfa/verify"))
    page.fill("#id_otp_token", totp_for(username))
    page.click("[data-testid=otp-submit]")
    page.wait_for_url(page.base_url + "/")


def watch_console(page) -> list:
    """Collects the page's console errors and uncaught exceptions, so a journey can assert there were none."""
    problems = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems
