"""The archive page (filters, paging, the disposal list and register, the disposal form), the search
page and the search API: thin over services.archived/dispose and search.search."""

import pytest

from tongban.documents import services
from tongban.documents.models import Document, Status

from ..conftest import actor
from .conftest import make_draft
from .test_api_views_cli import logged_in

pytestmark = pytest.mark.django_db


def archived(reviewer, head, **overrides):
    document = make_draft(**overrides)
    services.sign(head, document.ref)
    services.issue(reviewer, document.ref)
    return services.archive(reviewer, document.ref)


@pytest.fixture
def archive(db):
    reviewer, head = actor("reviewer"), actor("bureau_head")
    old = archived(
        reviewer, head, doc_type="letter", title="关于商请协助核查食品经营许可的函", date="2010-04-01"
    )
    new = [
        archived(reviewer, head, title=f"关于第{i}批垃圾分类示范点的通知", date="2026-03-01")
        for i in range(22)
    ]
    return old, new


def test_the_archive_page_filters_pages_and_reports_bad_filters_by_field(archive):
    old, new = archive
    client, _csrf = logged_in("bureau_head")
    page = client.get("/documents/archive/").content.decode()
    assert 'data-testid="archive-list"' in page and "第 1 / 2 页" in page
    second = client.get("/documents/archive/?page=2").content.decode()
    assert page.count('data-testid="open-archived"') + second.count('data-testid="open-archived"') == 23
    letters = client.get("/documents/archive/?doc_type=letter&retention=10").content.decode()
    assert old.ref in letters and new[0].ref not in letters
    assert old.ref in client.get("/documents/archive/?year=2010&agency=scjgj").content.decode()
    bad = client.get("/documents/archive/?year=abc&retention=99")
    assert bad.status_code == 200
    text = bad.content.decode()
    assert 'data-field="year"' in text and 'data-field="retention"' in text and 'aria-invalid="true"' in text


def test_the_disposal_list_the_form_and_the_register(archive):
    old, new = archive
    client, _csrf = logged_in("bureau_head")
    due = client.get("/documents/archive/?view=due").content.decode()
    assert old.ref in due and new[0].ref not in due and 'data-testid="due-badge"' in due
    detail = client.get(f"/documents/d/{old.ref}/").content.decode()
    assert 'data-testid="dispose-form"' in detail and "定期10年" in detail
    refused = client.post(
        f"/documents/d/{old.ref}/dispose", {"decision": "destroy", "reason": ""}, follow=True
    )
    assert Document.objects.get(pk=old.pk).status == Status.ARCHIVED
    assert "此字段为必填项" in refused.content.decode() or "required" in refused.content.decode()
    client.post(f"/documents/d/{old.ref}/dispose", {"decision": "destroy", "reason": "保管期满，经鉴定销毁"})
    assert Document.objects.get(pk=old.pk).status == Status.DISPOSED
    register = client.get("/documents/archive/?view=register").content.decode()
    assert "保管期满，经鉴定销毁" in register and old.number in register
    assert client.get(f"/documents/d/{old.ref}/pdf").status_code == 409  # nothing left to read
    # The drafter sees the record but not the form: disposal is the leader's decision.
    reviewer, _ = logged_in("reviewer")
    assert 'data-testid="dispose-form"' not in reviewer.get(f"/documents/d/{new[0].ref}/").content.decode()


def test_the_search_page_finds_ranks_marks_and_pages(archive):
    old, new = archive
    client, _csrf = logged_in("reviewer")
    empty = client.get("/documents/search")
    assert empty.status_code == 200 and 'data-testid="search-hits"' not in empty.content.decode()
    page = client.get("/documents/search?q=示范点 审批").content.decode()
    assert "找到 22 份公文" in page and "<mark>审批</mark>" in page
    assert page.count('data-testid="search-hit"') == 20 and "第 1 / 2 页" in page
    assert (
        page.count('data-testid="search-hit"')
        + client.get("/documents/search?q=示范点 审批&page=2")
        .content.decode()
        .count('data-testid="search-hit"')
        == 22
    )
    letter = client.get("/documents/search?q=核查&doc_type=letter").content.decode()
    assert old.ref in letter and new[0].ref not in letter
    bad = client.get("/documents/search?q=示范点&year=去年&date_from=昨天").content.decode()
    assert 'data-field="year"' in bad and 'data-field="date_from"' in bad
    outsider, _ = logged_in("reviewer_rs")
    assert 'data-testid="search-hit"' not in outsider.get("/documents/search?q=示范点").content.decode()


def test_the_search_api_answers_with_ranked_hits_and_field_errors(archive):
    old, _new = archive
    client, _csrf = logged_in("bureau_head")
    found = client.get("/api/v1/documents/search", {"q": "核查 食品经营许可"})
    assert found.status_code == 200
    body = found.json()
    assert (
        body["total"] == 1
        and body["results"][0]["ref"] == old.ref
        and body["results"][0]["number"] == old.number
    )
    assert body["words"] == ["核查", "食品", "经营", "许可"]
    bad = client.get("/api/v1/documents/search", {"q": "示范点", "year": "明年", "doc_type": "memo"})
    assert bad.status_code == 422 and {"year", "doc_type"} <= set(bad.json()["error"]["fields"])
    outsider, _ = logged_in("reviewer_rs")
    assert outsider.get("/api/v1/documents/search", {"q": "核查"}).json()["total"] == 0
    citizen = logged_in_citizen()
    assert citizen.get("/api/v1/documents/search", {"q": "核查"}).status_code == 403


def logged_in_citizen():
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.post("/accounts/login", {"username": "zhangsan", "password": settings.TONGBAN_DEMO_PASSWORD})
    return client
