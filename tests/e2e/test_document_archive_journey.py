"""The archive and full-text search in the browser: the bureau head filters the archive, finds a
letter whose 10-year retention has ended on the disposal list, appraises it and destroys it (the
register keeps it); then searches the documents in Chinese with a filter, sees the words marked and
opens a hit, while a section of another bureau finds nothing of theirs. Screenshots:
test-results/documents-archive-*, documents-search-*."""

import re

import pytest

from tests.e2e.conftest import shot, staff_login, watch_console

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _archive(reviewer, head, **fields):
    from tests.documents.conftest import make_draft
    from tongban.documents import services

    document = make_draft(**fields)
    services.sign(head, document.ref)
    services.issue(reviewer, document.ref)
    return services.archive(reviewer, document.ref)


def test_archive_filters_disposal_and_search_in_the_browser(page, browser):
    from tests.conftest import actor
    from tongban.documents.models import Status

    reviewer, head = actor("reviewer"), actor("bureau_head")
    old = _archive(
        reviewer, head, doc_type="letter", title="关于商请协助核查食品经营许可的函", date="2010-04-01"
    )
    notices = [
        _archive(reviewer, head, title=f"关于第{i}批垃圾分类示范点建设的通知", date=f"2026-03-0{i + 1}")
        for i in range(3)
    ]
    problems = watch_console(page)
    staff_login(page, "bureau_head")

    # The archive, filtered to letters: the old letter, 10 years, due.
    page.goto(f"{page.base_url}/documents/archive/")
    assert page.locator("[data-testid=archive-list] tbody tr").count() == 4
    page.select_option("#doc_type", "letter")
    page.click("form.filters button[type=submit]")
    rows = page.locator("[data-testid=archive-list] tbody tr")
    assert rows.count() == 1 and old.number in rows.first.inner_text()
    assert page.locator("[data-testid=due-badge]").count() == 1
    page.fill("#year", "twenty")
    page.click("form.filters button[type=submit]")
    assert page.locator("#year[aria-invalid=true]").count() == 1
    assert page.locator(".field-error[data-field=year]").is_visible()
    shot(page, "documents-archive-filters")

    # The disposal list holds the letter only; the leader appraises and destroys it.
    page.click("[data-testid=view-due]")
    due = page.locator("[data-testid=archive-list] tbody tr")
    assert due.count() == 1
    due.first.locator("[data-testid=open-archived]").click()
    page.wait_for_url(re.compile(rf"/documents/d/{old.ref}/$"))
    form = page.locator("[data-testid=dispose-form]")
    form.locator("#decision").select_option("destroy")
    form.locator("#reason").fill("保管期满，经鉴定无继续保存价值，予以销毁")
    shot(page, "documents-archive-appraisal")
    form.locator("[data-testid=dispose]").click()
    page.wait_for_url(re.compile(rf"/documents/d/{old.ref}/$"))
    assert page.locator("[data-testid=doc-status]").get_attribute("data-status") == Status.DISPOSED
    assert "保管期满" in page.locator("[data-testid=disposals]").inner_text()
    page.goto(f"{page.base_url}/documents/archive/?view=register")
    register = page.locator("[data-testid=disposal-register]").inner_text()
    assert old.number in register and "关于商请协助核查食品经营许可的函" in register
    shot(page, "documents-archive-register")

    # Search: words of the text, ranked, marked, filtered by year; the destroyed letter is gone.
    page.goto(f"{page.base_url}/documents/search")
    page.fill("[data-testid=search-q]", "示范点 审批")
    page.click("[data-testid=search-submit]")
    hits = page.locator("[data-testid=search-hit]")
    assert hits.count() == 3
    assert page.locator("[data-testid=search-hit] mark").first.inner_text() in ("审批", "示范点")
    page.fill("[data-testid=search-year]", "2025")
    page.click("[data-testid=search-submit]")
    assert page.locator("[data-testid=search-hit]").count() == 0
    page.fill("[data-testid=search-year]", "2026")
    page.fill("[data-testid=search-q]", "核查 食品经营许可")
    page.click("[data-testid=search-submit]")
    assert page.locator("[data-testid=search-hit]").count() == 0  # destroyed: no longer found
    page.fill("[data-testid=search-q]", "示范点")
    page.click("[data-testid=search-submit]")
    shot(page, "documents-search-results")
    page.locator("[data-testid=search-hit] h2 a").first.click()
    page.wait_for_url(re.compile(r"/documents/d/GW[0-9A-F]+/$"))
    assert "示范点" in page.locator("h1").inner_text() or "示范点" in page.content()
    assert {n.ref for n in notices} >= {page.url.rstrip("/").rsplit("/", 1)[-1]}

    # Another bureau's section reads none of these, so finds none.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    other = context.new_page()
    other.base_url = page.base_url
    other.set_default_timeout(15_000)
    staff_login(other, "reviewer_rs")
    other.goto(f"{other.base_url}/documents/search?q=示范点")
    assert other.locator("[data-testid=search-hit]").count() == 0
    assert other.locator("[data-testid=search-empty]").is_visible()
    shot(other, "documents-search-nothing-zh")
    context.close()
    assert problems == []
