"""Public consultation pages: a planner drafts and publishes, a visitor comments without logging in
and reads the answer on the receipt page, the planner moderates and answers, the adoption report is
a public page and a PDF. Bad input is a field error in Chinese, never a 500."""

import datetime as dt

from django.test import Client
from django.utils import timezone

from tongban.programme.models import Comment, Consultation


def _create(client, **overrides):
    today = timezone.localdate()
    data = {
        "title": "企业开办“一件事”流程（征求意见稿）",
        "summary": "一日办结",
        "draft": "第一条 企业开办全程网办。",
        "department_code": "scjgj",
        "opens_on": today.isoformat(),
        "closes_on": (today + dt.timedelta(days=9)).isoformat(),
    } | overrides
    return client.post("/consultations/manage/new", data)


def test_a_visitor_comments_and_the_report_is_published(db, staff_client, settings):
    settings.TONGBAN_CONSULTATION_ANONYMOUS_PER_DAY = 1
    staff = staff_client("supervisor")
    bad = _create(staff, title="")
    assert bad.status_code == 422 and 'data-field="title"' in bad.content.decode()
    bad = _create(staff, closes_on="2000-01-01")
    assert bad.status_code == 422 and "截止日期早于开始日期。" in bad.content.decode()
    created = _create(staff, complex_draft="on")
    assert created.status_code == 302
    consultation = Consultation.objects.get()
    code = consultation.code
    assert created["Location"] == f"/consultations/manage/{code}/" and consultation.feedback_days == 30
    visitor = Client()
    assert visitor.get(f"/consultations/{code}/").status_code == 404  # not published yet
    assert staff.post(f"/consultations/manage/{code}/publish").status_code == 302

    listing = visitor.get("/consultations/").content.decode()
    assert f'data-consultation="{code}"' in listing and "征集中" in listing
    page = visitor.get(f"/consultations/{code}/").content.decode()
    assert 'data-testid="comment-form"' in page and "第一条 企业开办全程网办。" in page
    empty = visitor.post(f"/consultations/{code}/comment", {"text": ""})
    assert empty.status_code == 422 and "此项为必填项" in empty.content.decode()
    sent = visitor.post(
        f"/consultations/{code}/comment", {"text": "建议公章刻制同步办理", "section": "第一条"}
    )
    assert sent.status_code == 302
    comment = Comment.objects.get()
    assert sent["Location"] == f"/consultations/{code}/receipt/{comment.receipt}"
    receipt = visitor.get(sent["Location"]).content.decode()
    assert "待审核" in receipt and "待答复" in receipt
    assert visitor.get(f"/consultations/{code}/receipt/wrong-receipt").status_code == 404
    again = visitor.post(f"/consultations/{code}/comment", {"text": "再提一条"})
    assert again.status_code == 422 and "匿名意见已达上限" in again.content.decode()

    manage = staff.get(f"/consultations/manage/{code}/").content.decode()
    assert f'data-testid="moderate-{comment.number}"' in manage
    refused = staff.post(
        f"/consultations/manage/{code}/comments/{comment.number}/moderate", {"action": "refuse"}
    )
    assert refused.status_code == 422 and "请选择不予公开的理由。" in refused.content.decode()
    moderated = staff.post(
        f"/consultations/manage/{code}/comments/{comment.number}/moderate", {"action": "publish"}
    )
    assert moderated.status_code == 302
    early = staff.post(
        f"/consultations/manage/{code}/comments/{comment.number}/decide",
        {"decision": "adopted", "reason": "好"},
    )
    assert early.status_code == 422 and "请在征求意见期结束后作出采纳决定。" in early.content.decode()

    # the period has passed
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    Consultation.objects.filter(pk=consultation.pk).update(
        opens_on=yesterday - dt.timedelta(days=9), closes_on=yesterday
    )
    decided = staff.post(
        f"/consultations/manage/{code}/comments/{comment.number}/decide",
        {"decision": "adopted", "reason": "已将公章刻制纳入一件事"},
    )
    assert decided.status_code == 302
    report = staff.post(f"/consultations/manage/{code}/report", {"summary": "共收到意见1条，采纳1条。"})
    assert report.status_code == 302 and report["Location"] == f"/consultations/{code}/report"
    public = visitor.get(f"/consultations/{code}/report").content.decode()
    assert "已将公章刻制纳入一件事" in public and 'data-figure="on_time">1 / 1' in public
    pdf = visitor.get(f"/consultations/{code}/report.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content[:4] == b"%PDF"
    receipt = visitor.get(f"/consultations/{code}/receipt/{comment.receipt}").content.decode()
    assert "已将公章刻制纳入一件事" in receipt and "按时答复" in receipt


def test_readers_see_but_may_not_manage(db, staff_client):
    planner = staff_client("supervisor")
    _create(planner)
    code = Consultation.objects.get().code
    planner.post("/accounts/logout")
    head = staff_client("bureau_head")
    page = head.get(f"/consultations/manage/{code}/")
    assert page.status_code == 200 and 'data-testid="publish"' not in page.content.decode()
    assert head.post(f"/consultations/manage/{code}/publish").status_code == 403
    assert head.post("/consultations/manage/new", {}).status_code == 403
