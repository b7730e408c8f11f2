"""Weekly progress reports (周报): due days on the working-day calendar, filing with evidence (checked
and stored encrypted), who may file, the programme's week and its PDF, and reminders the working
day before a report is due."""

import datetime as dt

import pytest
from django.utils import translation

from tests import samples
from tongban.accounts.models import Notification
from tongban.core import calendar, events
from tongban.core.errors import InvalidInput, NotFound, NotPermitted
from tongban.programme import weekly
from tongban.programme.models import Task, TaskStatus

from ..conftest import actor

D = dt.date


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=calendar.local_tz())


def test_reports_are_due_on_friday_or_the_last_working_day_before_it(db):
    assert weekly.week_of(D(2026, 10, 11)) == D(2026, 10, 5)
    assert weekly.due_on(D(2026, 10, 5)) == D(2026, 10, 9)  # an ordinary Friday
    assert weekly.due_on(D(2026, 9, 28)) == D(2026, 9, 30)  # Fri 2 Oct is 国庆: Wednesday
    assert weekly.due_on(D(2026, 9, 21)) == D(2026, 9, 24)  # Fri 25 Sep is 中秋: Thursday


def test_an_owner_files_a_report_with_evidence(planned):
    owner = actor("bureau_head")  # 市监局, which owns A
    report = weekly.file_report(
        owner,
        planned.code,
        "A",
        text="完成事项清单梳理初稿，已征求处室意见。",
        percent="60",
        uploads=[samples.upload("清单初稿.pdf", "draft list")],
        now=at(D(2026, 9, 29)),
    )
    task = Task.objects.get(programme=planned, code="A")
    assert (report.week, report.percent, task.percent, task.status) == (D(2026, 9, 28), 60, 60, "in_progress")
    (evidence,) = report.evidence.all()
    assert evidence.kind == "pdf" and evidence.name == "清单初稿.pdf"
    _found, content = weekly.evidence(actor("supervisor"), planned.code, "A", "2026-09-28", 1)
    assert content == samples.pdf("draft list")
    with pytest.raises(NotFound):
        weekly.evidence(owner, planned.code, "A", "2026-09-28", 2)

    # filed again in the same week: the text and percent are replaced, the evidence added to
    again = weekly.file_report(
        owner,
        planned.code,
        "A",
        text="清单定稿。",
        percent="100",
        uploads=[samples.upload("定稿.pdf", "final list")],
        now=at(D(2026, 9, 30)),
    )
    assert again.pk == report.pk and again.text == "清单定稿。" and again.evidence.count() == 2
    task.refresh_from_db()
    assert (task.percent, task.status, task.done_on) == (100, TaskStatus.DONE, D(2026, 9, 30))
    logged = [
        e
        for e in events.history("programme_task", f"{planned.code}/A")
        if e.activity.endswith("weekly_reported")
    ]
    assert [(e.detail["percent"], e.detail["files"]) for e in logged] == [(60, 1), (100, 1)]


def test_bad_reports_are_field_errors_and_change_nothing(planned):
    owner = actor("bureau_head")
    with pytest.raises(InvalidInput) as caught:
        weekly.file_report(
            owner,
            planned.code,
            "A",
            text="",
            percent="120",
            uploads=[("evidence.pdf", b"<html><script>alert(1)</script></html>")],
            now=at(D(2026, 9, 29)),
        )
    assert set(caught.value.fields) == {"text", "percent", "files[0]"}
    assert str(caught.value.fields["percent"][0].message) == "请输入 0 到 100 之间的整数。"
    assert Task.objects.get(programme=planned, code="A").percent == 0
    assert not weekly.WeeklyReport.objects.exists()


def test_only_the_owner_department_or_a_planner_files(planned):
    with pytest.raises(NotPermitted):  # C belongs to 行政审批局
        weekly.file_report(actor("bureau_head"), planned.code, "C", text="x", percent=10)
    with pytest.raises(NotPermitted):  # a citizen has no business with programmes
        weekly.file_report(actor("zhangsan"), planned.code, "A", text="x", percent=10)
    weekly.file_report(
        actor("supervisor"), planned.code, "C", text="代报", percent=10, now=at(D(2026, 10, 8))
    )


def test_the_programmes_week_and_its_pdf(planned, monkeypatch):
    monkeypatch.setattr(weekly.services, "today", lambda: D(2026, 10, 14))
    weekly.file_report(
        actor("bureau_head"), planned.code, "A", text="已完成", percent=100, now=at(D(2026, 10, 13))
    )
    data = weekly.overview(actor("supervisor"), planned.code, D(2026, 10, 14))
    assert data["week"] == D(2026, 10, 12) and data["due"] == D(2026, 10, 16)
    # A (filed, done) and B, C, D, E, which start by the end of the week; F starts on 21 Oct
    assert {r.task.code: bool(r.report) for r in data["rows"]} == {
        "A": True,
        "B": False,
        "C": False,
        "D": False,
        "E": False,
    }
    assert data["filed"] == 1 and {r.task.code for r in data["missing"]} == {"B", "C", "D", "E"}
    name, pdf = weekly.weekly_pdf(actor("supervisor"), planned.code, D(2026, 10, 14))
    assert name == f"weekly-{planned.code}-2026-10-12.pdf" and pdf.startswith(b"%PDF")


def test_owners_are_reminded_the_working_day_before_once(planned, monkeypatch):
    planner = actor("supervisor")
    # week of 12 Oct: due Fri 16 Oct, reminders go out on Thu 15 Oct
    assert weekly.send_reminders(planner, on=D(2026, 10, 14)) == []
    weekly.file_report(
        actor("bureau_head"), planned.code, "A", text="完成", percent=50, now=at(D(2026, 10, 14))
    )
    sent = weekly.send_reminders(planner, on=D(2026, 10, 15))
    assert sorted(sent) == [f"{planned.code}/{c}" for c in ("B", "C", "D", "E")]
    assert weekly.send_reminders(planner, on=D(2026, 10, 15)) == []
    # B and D are 市监局's (its nearest reporters: the bureau's heads), C is 行政审批局's
    notes = Notification.objects.filter(kind="reminder", subject__startswith=planned.code)
    heads = set(notes.filter(subject=f"{planned.code}/B").values_list("recipient__username", flat=True))
    assert "bureau_head" in heads and "reviewer" not in heads
    assert "2026-10-16" in notes.first().title
    with translation.override("en"):
        assert (
            notes.first().title_text.startswith("Weekly report for ")
            and "2026-10-16" in notes.first().title_text
        )
    with pytest.raises(NotPermitted):
        weekly.send_reminders(actor("bureau_head"), on=D(2026, 10, 15))
