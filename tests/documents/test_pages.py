"""The staff pages of official documents: the worklist, the document page with its elements, steps
and opinions, the step actions, the diff, the 收文 queue and a received document, 督查督办."""

import pytest
from django.utils import timezone

from tongban.documents import demo, flow, services, supervision
from tongban.documents.models import Receipt
from tongban.workflow.models import WorkItem

from ..conftest import actor
from .conftest import make_draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(db):
    demo.load_documents()


@pytest.fixture
def staff_client(db):
    """A separate browser per person: these pages are seen by several people in one test."""
    from django.conf import settings
    from django.test import Client

    from ..conftest import totp_for

    def login(username: str) -> Client:
        client = Client()
        client.post("/accounts/login", {"username": username, "password": settings.TONGBAN_DEMO_PASSWORD})
        response = client.post("/accounts/mfa/verify", {"otp_token": totp_for(username)})
        assert response.status_code == 302
        return client

    return login


def open_item(ref, node, who=None):
    items = WorkItem.objects.filter(subject=ref, node_id=node, status__in=["open", "claimed"])
    if who:
        items = items.filter(assignee__username=who)
    return items.get()


def test_drafting_in_the_browser_submitting_and_seeing_it_in_the_reviewers_worklist(loaded, staff_client):
    client = staff_client("reviewer")
    response = client.post(
        "/documents/new",
        {"doc_type": "notice", "title": "", "body": "正文", "main_recipients": "各科室："},
    )
    assert response.status_code == 200 and 'data-field="title"' in response.content.decode()
    response = client.post(
        "/documents/new",
        {
            "doc_type": "notice",
            "title": "秘密★1年 关于某事的通知",
            "body": "正文",
            "main_recipients": "各科室：",
        },
    )
    assert response.status_code == 200 and "秘密" in response.content.decode()  # refused, with the reason
    response = client.post(
        "/documents/new",
        {
            "doc_type": "notice",
            "title": "关于开展食品安全检查的通知",
            "body": "一、检查范围\n全区。",
            "main_recipients": "各科室：",
        },
    )
    assert response.status_code == 302
    ref = response["Location"].rstrip("/").split("/")[-1]
    page = client.get(f"/documents/d/{ref}/").content.decode()
    assert 'data-step="draft"' in page and "发文机关标志" in page and "广安区市场监督管理局文件" in page
    draft = open_item(ref, "draft")
    response = client.post(
        f"/documents/d/{ref}/steps/{draft.public_id}",
        {"action": "approve", "countersign_given": "1", "countersign": ["nowhere"], "opinion": ""},
    )
    assert response.status_code == 302 and open_item(ref, "draft")  # refused: no such department
    client.post(f"/documents/d/{ref}/steps/{draft.public_id}", {"action": "approve", "opinion": "请核稿"})
    head = staff_client("section_head")
    worklist = head.get("/documents/").content.decode()
    assert f'data-ref="{ref}"' in worklist and "核稿" in worklist and 'data-colour="green"' in worklist
    page = head.get(f"/documents/d/{ref}/").content.decode()
    assert "请核稿" in page and 'data-testid="reject"' in page  # the opinion of the step before
    # Another bureau's staff cannot open it.
    assert staff_client("handler_rs").get(f"/documents/d/{ref}/").status_code == 404


def test_a_saved_version_shows_its_word_level_changes(loaded, staff_client):
    document = make_draft()
    services.save_draft(actor("reviewer"), document.ref, title=document.title.replace("进一步", "全面"))
    page = staff_client("reviewer").get(f"/documents/d/{document.ref}/diff?old=1&new=2").content.decode()
    assert "<del" in page and "进一步" in page and "<ins" in page and "全面" in page


def test_received_queue_receipt_page_records_the_reader_and_signing_for_starts_handling(loaded, staff_client):
    document = make_draft()
    head = actor("division_head")
    for node, who in (("draft", "reviewer"), ("review", "section_head"), ("signoff", "bureau_head")):
        flow.complete_step(actor(who), document.ref, open_item(document.ref, node).public_id)
    for node in ("numbering", "sealing", "printing"):
        flow.complete_step(
            head, document.ref, open_item(document.ref, node).public_id, seal_code=demo.SEAL_CODE
        )
    flow.complete_step(
        head, document.ref, open_item(document.ref, "distribution").public_id, main_agencies=["rsj"]
    )
    receipt = Receipt.objects.get(document=document)
    client = staff_client("handler_rs")
    assert receipt.ref in client.get("/documents/received/").content.decode()
    page = client.get(f"/documents/received/{receipt.ref}/").content.decode()
    assert 'data-testid="sign-for"' in page and "何人社" in page  # the reader is listed
    client.post(f"/documents/received/{receipt.ref}/sign-for")
    page = client.get(f"/documents/received/{receipt.ref}/").content.decode()
    assert 'data-step="proposal"' in page
    sender = staff_client("reviewer").get(f"/documents/d/{document.ref}/").content.decode()
    assert 'data-agency="rsj"' in sender and "何人社" in sender  # the read receipt at the sender
    assert client.get(f"/documents/received/{receipt.ref}/pdf")["Content-Type"] == "application/pdf"


def test_supervision_pages_create_a_task_and_an_overdue_one_gives_a_notice(loaded, staff_client):
    client = staff_client("bureau_head")
    response = client.post(
        "/documents/supervision/",
        {"title": "落实情况", "instruction": "请报告。", "lead_department": "scjgj-spjyk", "limit_days": "2"},
    )
    assert response.status_code == 302
    task = supervision.tasks(actor("bureau_head")).get()
    page = client.get(f"/documents/supervision/{task.ref}/").content.decode()
    assert 'data-colour="green"' in page and 'data-testid="notice"' not in page
    task.created_at = timezone.now() - timezone.timedelta(days=30)
    task.save()
    page = client.get(f"/documents/supervision/{task.ref}/").content.decode()
    assert 'data-colour="red"' in page and 'data-testid="notice"' in page
    response = client.post(f"/documents/supervision/{task.ref}/notice")
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF-")
    assert staff_client("reviewer").post("/documents/supervision/", {"title": "x"}).status_code == 403
