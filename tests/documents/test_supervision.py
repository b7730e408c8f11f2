"""督查督办: a leader's 批示 becomes a supervised task with a deadline in working days; it turns red
when overdue, produces a 督办通知 PDF only then, takes progress reports and closes with evidence."""

import datetime as dt

import pytest
from django.utils import timezone
from pypdf import PdfReader

from tongban.core import calendar
from tongban.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from tongban.core.models import DomainEvent
from tongban.documents import supervision
from tongban.documents.models import TaskStatus

from ..conftest import actor
from .conftest import make_draft

pytestmark = pytest.mark.django_db


def instruct(**overrides):
    fields = dict(
        title="食品经营许可告知承诺制落实情况",
        instruction="请食品经营监管科两周内报告告知承诺制落实情况。",
        lead_department="scjgj-spjyk",
        limit_days=10,
    )
    fields.update(overrides)
    return supervision.create_task(actor("bureau_head"), **fields)


def age(task, working_days: int):
    """Move the task's start back, as if it had been given `working_days` working days ago."""
    cal = calendar.get_calendar()
    start = task.created_at
    day = start
    while cal.working_days_between(day, start) < working_days:
        day -= dt.timedelta(days=1)
    task.created_at = day
    task.due_at = cal.deadline(day, task.limit_days)
    task.save()
    return task


def test_a_leaders_instruction_on_a_document_becomes_a_supervised_task(db):
    document = make_draft()
    task = instruct(document_ref=document.ref, co_departments="scjgj-djzck")
    assert task.status == TaskStatus.OPEN and task.document == document
    assert [d.code for d in task.co_departments.all()] == ["scjgj-djzck"]
    assert task.due_at == calendar.get_calendar().deadline(task.created_at, 10)
    assert supervision.colour(task) == "green"
    assert DomainEvent.objects.filter(subject_id=task.ref, activity="supervision.created").exists()
    # The lead section sees it and reports; a bureau elsewhere does not even see it.
    assert supervision.access_task(actor("reviewer"), task.ref) == task
    supervision.report(actor("reviewer"), task.ref, text="已完成自查，正在整改。")
    with pytest.raises(NotFound):
        supervision.access_task(actor("handler_rs"), task.ref)


def test_bad_input_and_the_wrong_people_are_refused(db):
    with pytest.raises(InvalidInput) as exc:
        instruct(title="", lead_department="nowhere", limit_days="many")
    assert set(exc.value.fields) == {"title", "lead_department", "limit_days"}
    with pytest.raises(NotPermitted):
        supervision.create_task(
            actor("reviewer"), title="x", instruction="y", lead_department="scjgj-spjyk", limit_days=5
        )


def test_an_overdue_task_turns_red_gets_a_notice_and_closes_with_evidence(db):
    task = instruct(limit_days=3)
    with pytest.raises(Conflict):  # no notice while it is on time
        supervision.notice_pdf(actor("bureau_head"), task.ref)
    age(task, 6)
    assert supervision.colour(task) == "red"
    pdf = supervision.notice_pdf(actor("bureau_head"), task.ref)
    text = "".join(page.extract_text() for page in PdfReader(__import__("io").BytesIO(pdf)).pages)
    assert "督办" in text and "逾期" in text and "食品经营监管科" in text
    created = timezone.localtime(task.created_at).date()
    assert f"{created.year}年{created.month}月{created.day}日作出批示" in text.replace("\n", "")
    assert DomainEvent.objects.filter(subject_id=task.ref, activity="supervision.notice").exists()
    with pytest.raises(InvalidInput):
        supervision.close(actor("bureau_head"), task.ref, evidence="")
    supervision.close(actor("bureau_head"), task.ref, evidence="整改报告已报送（附件）。")
    task.refresh_from_db()
    assert task.status == TaskStatus.CLOSED and supervision.colour(task) == ""
    closed = DomainEvent.objects.get(subject_id=task.ref, activity="supervision.closed")
    assert closed.detail == {"on_time": False}
    [line] = supervision.overview(actor("bureau_head"))
    assert (line.total, line.closed, line.closed_on_time, line.closing_rate, line.on_time_rate) == (
        1,
        1,
        0,
        1.0,
        0.0,
    )
