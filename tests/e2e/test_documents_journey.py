"""Official documents in the browser, person by person: a reviewer drafts a notice, two departments
countersign it in parallel, the bureau head signs it off, the office numbers, seals, issues and
distributes it; the human resources bureau finds it in its 收文 queue, signs for it (the sender sees
the read receipt), and it goes 拟办 → 批办 → 承办 → 归档; the outgoing document is archived. Then the
bureau head's 批示 on it becomes a supervised task that turns red when overdue and produces a
督办通知 PDF. Screenshots and the notice: test-results/documents-*."""

import re

import pytest
from pypdf import PdfReader

from tests.e2e.conftest import ARTIFACTS, shot, staff_login, watch_console

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class People:
    """One browser context per person, each logged in once (a TOTP code is good for one login)."""

    def __init__(self, browser, first_page):
        self.browser, self.pages, self._watched = browser, {}, []
        self.base_url = first_page.base_url
        self._first = first_page

    @property
    def problems(self) -> list:
        return [problem for watched in self._watched for problem in watched]

    def __call__(self, username: str):
        page = self.pages.get(username)
        if page is None:
            if self._first is not None:
                page, self._first = self._first, None
            else:
                context = self.browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
                page = context.new_page()
                page.set_default_timeout(15_000)
                page.base_url = self.base_url
            self._watched.append(watch_console(page))
            staff_login(page, username)
            self.pages[username] = page
        return page


def _open_step(page, ref: str, step: str):
    page.goto(f"{page.base_url}/documents/d/{ref}/")
    return page.locator(f"[data-testid=my-step][data-step={step}]")


def _do(page, ref: str, step: str, opinion: str = "", before=None):
    card = _open_step(page, ref, step)
    if before:
        before(card)
    if opinion:
        card.locator("[data-testid=opinion-input]").fill(opinion)
    card.locator("[data-testid=approve]").click()
    page.wait_for_url(re.compile(rf"/documents/d/{ref}/$"))
    assert page.locator(f"[data-testid=my-step][data-step={step}]").count() == 0


def test_draft_countersign_sign_seal_issue_receive_handle_archive_and_supervise(page, browser):
    from django.utils import timezone

    from tongban.documents import demo
    from tongban.documents.models import SupervisedTask

    demo.load_documents()
    people = People(browser, page)

    # 起草: the reviewer drafts in the browser and sends it on with two countersigning departments.
    drafter = people("reviewer")
    drafter.goto(drafter.base_url + "/documents/new")
    drafter.select_option("#id_doc_type", "notice")
    drafter.fill("#id_title", "广安区市场监督管理局关于开展夏季食品安全专项检查的通知")
    drafter.fill("#id_main_recipients", "区人社局、区住建局：")
    drafter.fill(
        "#id_body",
        "为保障夏季食品安全，现就有关事项通知如下。\n一、检查范围\n全区餐饮服务单位。\n二、工作要求\n请认真落实。",
    )
    drafter.fill("#id_cc", "区政府办公室。")
    drafter.click("[data-testid=save-draft]")
    drafter.wait_for_url(re.compile(r"/documents/d/GW[0-9A-F]+/$"))
    ref = re.search(r"/documents/d/(GW[0-9A-F]+)/", drafter.url).group(1)
    assert "发文机关标志" in drafter.locator("[data-testid=elements]").inner_text()

    def countersign(card):
        card.locator("input[name=countersign][value=rsj]").check()
        card.locator("input[name=countersign][value=zjj]").check()

    _do(drafter, ref, "draft", "请核稿", before=countersign)

    # 核稿 from the worklist.
    head = people("section_head")
    head.goto(head.base_url + "/documents/")
    head.locator(f"tr[data-ref={ref}] [data-testid=handle]").click()
    head.wait_for_url(re.compile(rf"/documents/d/{ref}/$"))
    _do(head, ref, "review", "同意，请会签")

    # 会签: both departments, in parallel; 签发 only after both.
    _do(people("handler_zj"), ref, "countersign", "住建局无意见")
    leader = people("bureau_head")
    assert _open_step(leader, ref, "signoff").count() == 0
    _do(people("rs_head"), ref, "countersign", "人社局同意")
    _do(leader, ref, "signoff", "同意印发")

    # 编号 → 用印 → 印发 → 分发 → 归档 by the bureau's office.
    office = people("division_head")
    _do(office, ref, "numbering")
    number = office.locator("[data-testid=number]").inner_text()
    assert re.fullmatch(r".+〔\d{4}〕\d+号", number)
    _do(
        office,
        ref,
        "sealing",
        before=lambda card: card.locator("[data-testid=seal]").select_option(demo.SEAL_CODE),
    )
    _do(office, ref, "printing")

    def recipients(card):
        card.locator("[data-testid=main-rsj]").check()
        card.locator("[data-testid=cc-zjj]").check()

    _do(office, ref, "distribution", before=recipients)
    shot(office, "documents-outgoing-before-filing")

    # 收文 at the human resources bureau: the queue, 签收, 拟办.
    clerk = people("handler_rs")
    clerk.goto(clerk.base_url + "/documents/received/")
    clerk.locator("[data-testid=received] tr", has_text=number).locator("[data-testid=open-receipt]").click()
    clerk.wait_for_url(re.compile(r"/documents/received/SW[0-9A-F]+/$"))
    receipt_url = clerk.url
    clerk.click("[data-testid=sign-for]")
    clerk.wait_for_url(receipt_url)

    def incoming(page, step, opinion, before=None):
        page.goto(receipt_url)
        card = page.locator(f"[data-testid=my-step][data-step={step}]")
        if before:
            before(card)
        card.locator("[data-testid=opinion-input]").fill(opinion)
        card.locator("[data-testid=approve]").click()
        page.wait_for_url(receipt_url)

    incoming(clerk, "proposal", "拟请韩局长阅示，社保科办理")
    incoming(
        people("rs_head"),
        "instruction",
        "请社保科抓好落实",
        before=lambda card: card.locator("[data-testid=handling-department]").select_option("rsj-shbxk"),
    )
    incoming(people("reviewer_rs"), "handling", "已组织检查，情况良好")
    incoming(clerk, "filing", "办结归档")
    assert clerk.locator("[data-testid=receipt-status]").get_attribute("data-status") == "archived"
    shot(clerk, "documents-received-archived")

    # The sender sees the read receipt; the office files the outgoing document.
    drafter.goto(f"{drafter.base_url}/documents/d/{ref}/")
    row = drafter.locator("[data-testid=receipts] tr[data-agency=rsj]")
    assert "何人社" in row.inner_text()
    _do(office, ref, "filing")
    assert office.locator("[data-testid=doc-status]").get_attribute("data-status") == "archived"
    steps = office.locator("[data-testid=steps]").inner_text()
    assert "同意印发" in steps and "人社局同意" in steps and "住建局无意见" in steps

    # 批示 → a supervised task; overdue it turns red and gives a 督办通知.
    leader.goto(f"{leader.base_url}/documents/d/{ref}/")
    leader.click("[data-testid=instruct]")
    leader.fill("#id_title", "夏季食品安全专项检查落实情况")
    leader.fill("#id_instruction", "请食品经营监管科两个工作日内报告检查结果。")
    leader.select_option("#id_lead_department", "scjgj-spjyk")
    leader.fill("#id_limit_days", "2")
    leader.click("[data-testid=create-task]")
    leader.wait_for_url(re.compile(r"/documents/supervision/DB[0-9A-F]+/$"))
    assert leader.locator("h1 [data-testid=ryg]").get_attribute("data-colour") == "green"
    task = SupervisedTask.objects.get(document__ref=ref)
    # The clock is moved, not waited for: the task was given a month ago.
    task.created_at = timezone.now() - timezone.timedelta(days=30)
    task.due_at = task.created_at + timezone.timedelta(days=3)
    task.save()
    leader.reload()
    assert leader.locator("h1 [data-testid=ryg]").get_attribute("data-colour") == "red"
    shot(leader, "documents-supervision-red")
    with leader.expect_download() as download:
        leader.click("[data-testid=notice]")
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "documents-supervision-notice.pdf"
    download.value.save_as(str(target))
    text = "".join(p.extract_text() for p in PdfReader(str(target)).pages)
    assert "督办" in text and "逾期" in text
    assert people.problems == []
