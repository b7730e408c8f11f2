"""A catalogue manager opens a process definition and sees its BPMN diagram, drawn by the vendored
bpmn-js under the site's strict Content-Security-Policy, with the current step highlighted."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import totp_for
from tests.e2e.conftest import shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWER = (
    Path(__file__).resolve().parents[2]
    / "src/tongban/web/static/web/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js"
)
SHOTS = Path("/tmp/shots")  # noqa: S108  (where reviewers look at the picture; nothing is read back)
KEY = "item:E2E-001"


@pytest.fixture
def vendored():
    if not VIEWER.exists():
        message = "bpmn-js is not vendored: run `make assets` (make test does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def definition(seeded):
    from tongban.accounts.models import Department
    from tongban.core.authz import SYSTEM
    from tongban.workflow import builder, services

    xml = builder.item_process("E2E-001", "食品经营许可（测试）", "scjgj-spjyk", 9)
    return services.publish_definition(
        SYSTEM, key=KEY, bpmn_xml=xml, department=Department.objects.get(code="scjgj")
    )


def _login_admin(page):
    page.goto(page.base_url + "/accounts/login")
    page.fill("#id_username", "admin")
    page.fill("#id_password", settings.TONGBAN_DEMO_PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(re.compile(r"/accounts/mfa/verify"))
    page.fill("#id_otp_token", totp_for("admin"))
    page.click("[data-testid=otp-submit]")
    page.wait_for_url(page.base_url + "/")


def test_the_diagram_renders_with_the_current_step_highlighted(page, vendored, definition):
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
    _login_admin(page)

    page.click('#sidenav a[href="/processes/"]')
    page.wait_for_selector("[data-testid=definitions]")
    page.click(f"[data-testid=definitions] >> text={KEY}")
    page.wait_for_selector("[data-testid=process-diagram]")
    assert page.locator("h1").inner_text() == "食品经营许可（测试）"

    page.goto(page.base_url + f"/processes/{KEY}/?highlight=review&completed=start")
    page.wait_for_selector("[data-process-diagram][data-state=rendered]")
    diagram = page.locator("[data-process-diagram]")
    assert diagram.get_attribute("data-marked") == "review"
    assert page.locator("[data-diagram-canvas] svg").count() >= 1
    # The marker is on the shape of the current step, and its stylesheet applies: a clear colour and a
    # thicker border than the other shapes.
    current = page.locator('.djs-element[data-element-id="review"]')
    assert "tb-current" in current.get_attribute("class")
    assert page.locator(".djs-element.tb-current").count() == 1
    stroke = current.locator(".djs-visual > :nth-child(1)").evaluate(
        "el => [getComputedStyle(el).stroke, getComputedStyle(el).strokeWidth]"
    )
    assert stroke == ["rgb(194, 65, 12)", "4px"], stroke
    other = page.locator('.djs-element[data-element-id="approve"] .djs-visual > :nth-child(1)')
    assert other.evaluate("el => getComputedStyle(el).strokeWidth") != "4px"
    assert "tb-completed" in page.locator('.djs-element[data-element-id="start"]').get_attribute("class")
    # The whole process fits in the viewport: every shape's box lies inside the canvas.
    canvas_box = page.locator("[data-diagram-canvas]").bounding_box()
    for node in ("start", "review", "reviewed", "approve", "end", "end_rejected"):
        box = page.locator(f'.djs-element[data-element-id="{node}"]').bounding_box()
        assert box["x"] >= canvas_box["x"] and box["y"] >= canvas_box["y"], node
        assert box["x"] + box["width"] <= canvas_box["x"] + canvas_box["width"], node
        assert box["y"] + box["height"] <= canvas_box["y"] + canvas_box["height"], node
    # bpmn-js's licence: the bpmn.io watermark stays fully visible, covered by nothing.
    watermark = page.locator(".bjs-powered-by")
    watermark.scroll_into_view_if_needed()
    assert watermark.is_visible()
    covered = watermark.evaluate(
        """el => { const r = el.getBoundingClientRect();
                   const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                   return !(hit === el || el.contains(hit)); }"""
    )
    assert not covered
    # The text alternative says the same for screen readers.
    assert page.locator('[data-testid=process-steps] li[aria-current="step"]').inner_text().startswith("审查")
    assert not problems, problems  # no CSP refusals, no script errors

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / "process-diagram.png"), full_page=True)
    shot(page, "process-diagram")


def test_without_javascript_the_steps_are_listed(browser, live_server, vendored, definition):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, java_script_enabled=False)
    page = context.new_page()
    page.base_url = live_server.url
    try:
        _login_admin(page)
        page.goto(page.base_url + f"/processes/{KEY}/?highlight=approve")
        assert not page.locator("[data-diagram-canvas]").is_visible()
        assert not page.locator("[data-diagram-fit]").is_visible()
        steps = page.locator("[data-testid=process-steps] li")
        assert steps.count() == 5 and steps.nth(0).is_visible()
        assert page.locator("[data-testid=process-steps] li.is-current").inner_text().startswith("审批")
        assert page.locator("[data-diagram-status]").is_visible()
    finally:
        context.close()
