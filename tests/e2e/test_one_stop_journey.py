"""企业开办 end to end, everyone in the browser: the founder applies on a phone; the clerk accepts at
the comprehensive window; every member department sees its step at once (并联审批) and approves it
from its worklist; the clerk issues the result; the founder downloads the decision and rates it."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests import samples
from tests.e2e.conftest import staff_login
from tests.e2e.test_citizen_journeys import BUNDLE, DESKTOP, PHONE, _context, _login, _sample, _snap

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _department_staff(bundle_version) -> dict[str, str]:
    """One approver per member department (审查 and 审批 roles), with an authenticator."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tongban.accounts import services as account_services
    from tongban.accounts.models import User
    from tongban.core.authz import SYSTEM

    staff = {}
    for member in bundle_version.members.select_related("item_version__item__department"):
        department = member.item_version.item.department
        username = f"e2e_{department.code}"
        if username not in staff.values():
            account_services.create_staff(
                SYSTEM,
                username=username,
                display_name=f"{department.short_name or department.name}审批人",
                department_code=department.code,
                roles=[("reviewer", False), ("section_head", False)],
            )
            user = User.objects.get(username=username)
            user.set_password(settings.TONGBAN_DEMO_PASSWORD)
            user.save()
            TOTPDevice.objects.create(user=user, name="e2e", confirmed=True)
        staff[department.path] = username
    return staff


def _approve_from_worklist(page, number: str) -> None:
    """Claim this case's step in the worklist and approve it with an opinion."""
    page.goto(page.base_url + "/work/")
    row = page.locator(f'[data-testid=worklist] tbody tr[data-case="{number}"]').first
    row.locator("[data-testid=claim]").click()
    page.wait_for_url(re.compile(r"/work/[0-9a-f-]+/$"))
    page.fill("#id_complete-opinion", "材料齐全，符合条件，同意。")
    page.click("[data-testid=complete-submit]")
    page.wait_for_url(page.base_url + "/work/")


def test_company_start_up_one_stop_in_the_browser(browser, live_server, seeded):
    from tongban.cases.models import Case, CaseStatus, Rating
    from tongban.catalog import services as catalog
    from tongban.catalog.demo.loader import load_detail
    from tongban.workflow.models import WorkItem

    load_detail()
    bundle = catalog.get_published_bundle(BUNDLE)
    staff = _department_staff(bundle)
    fields = catalog.merged_form(bundle).fields

    # The founder applies on a phone: one form for the whole bundle.
    citizen, phone = _context(browser, live_server, PHONE)
    _login(phone)
    phone.goto(phone.base_url + f"/services/bundles/{BUNDLE}/apply")
    phone.wait_for_selector("[data-testid=apply-form]")
    for spec in fields:
        element = phone.locator(f'[name="data.{spec["key"]}"]')
        if spec["type"] == "select":
            element.select_option(index=1)
        elif spec["type"] == "checkbox":
            element.check()
        else:
            element.fill(_sample(spec))
    phone.locator("li.upload", has_text="公司章程").locator("input[type=file]").set_input_files(
        {"name": "公司章程.pdf", "mimeType": "application/pdf", "buffer": samples.pdf("charter")}
    )
    phone.click("[data-testid=apply-submit]")
    phone.wait_for_selector("[data-testid=receipt]")
    number = phone.locator("[data-testid=receipt-number]").inner_text()

    # The clerk accepts it at the comprehensive window, originals checked on paper.
    office, desk = _context(browser, live_server, DESKTOP)
    staff_login(desk, "clerk")
    desk.goto(desk.base_url + f"/window/cases/{number}/")
    # Nothing comes ticked; the clerk looks at everything and marks it all checked in one go.
    assert desk.locator("[data-testid=check-form] input[type=radio]:checked").count() == 0
    desk.click("[data-testid=check-all]")
    desk.click("[data-testid=accept]")
    desk.wait_for_url(re.compile(rf"/window/cases/{number}/receipt$"))  # the receipt to print
    assert Case.objects.get(number=number).status == CaseStatus.IN_PROGRESS
    office.close()

    # Every member department has its step open at the same time: parallel approval.
    open_paths = set(
        WorkItem.objects.filter(subject=number, status="open").values_list("department_path", flat=True)
    )
    assert open_paths == set(staff)
    for path in sorted(staff):
        context, page = _context(browser, live_server, DESKTOP)
        staff_login(page, staff[path])
        _approve_from_worklist(page, number)  # 审查
        _approve_from_worklist(page, number)  # 审批
        context.close()
    case = Case.objects.get(number=number)
    assert (case.status, case.decision) == (CaseStatus.DECIDED, "approve")

    # The clerk issues the result online.
    office, desk = _context(browser, live_server, DESKTOP)
    staff_login(desk, "clerk")
    desk.goto(desk.base_url + f"/window/cases/{number}/")
    desk.check("input[name=delivery][value=online]")
    desk.click("[data-testid=issue]")
    desk.wait_for_load_state()
    office.close()
    assert Case.objects.get(number=number).status == CaseStatus.ISSUED

    # The founder sees it done, downloads the decision and rates the service.
    phone.goto(phone.base_url + f"/my/cases/{number}/")
    assert phone.locator("[data-testid=case-status]").inner_text() == "已办结"
    with phone.expect_download() as info:
        phone.click("[data-testid=document-download]")
    assert Path(info.value.path()).read_bytes().startswith(b"%PDF")
    phone.locator("label.rating-choice", has=phone.locator('input[value="5"]')).click()
    phone.click("[data-testid=rating-submit]")
    phone.wait_for_selector("[data-testid=rating]")
    assert Rating.objects.get(case__number=number).score == 5
    _snap(phone, "one-stop-rated-phone")
    assert not phone.problems, phone.problems
    citizen.close()
