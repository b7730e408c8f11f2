"""督查督办 KPIs in insight: 办结率 and 按时办结率 per lead department, read from the core event log
that the documents app's supervised tasks write (insight imports nothing of documents)."""

import datetime as dt

import pytest
from django.utils import timezone

from tongban.core.errors import InvalidInput, NotPermitted
from tongban.documents import supervision as tasks
from tongban.insight import supervision

from ..conftest import actor

pytestmark = pytest.mark.django_db


def instruct(lead: str, limit_days: int = 10):
    return tasks.create_task(
        actor("bureau_head"),
        title="食品经营许可告知承诺制落实情况",
        instruction="请两周内报告落实情况。",
        lead_department=lead,
        limit_days=limit_days,
    )


def overdue(task):
    """Move the task's deadline into the past, as if it had been given long ago."""
    task.due_at = timezone.now() - dt.timedelta(days=1)
    task.save()
    return task


def test_closing_and_on_time_rates_per_lead_department_and_for_the_whole_government():
    on_time = instruct("scjgj-spjyk")
    late = overdue(instruct("scjgj-spjyk", limit_days=3))
    instruct("scjgj-djzck")  # still open
    tasks.close(actor("bureau_head"), on_time.ref, evidence="整改报告已报送。")
    tasks.close(actor("bureau_head"), late.ref, evidence="整改报告已报送（逾期）。")
    today = timezone.localdate()
    lines = supervision.figures(actor("supervisor"), today - dt.timedelta(days=30), today)
    total, *departments = lines
    assert (total.department_code, total.tasks, total.closed, total.closed_on_time) == ("", 3, 2, 1)
    assert total.closing_rate == pytest.approx(2 / 3) and total.on_time_rate == 0.5
    by_code = {line.department_code: line for line in departments}
    assert set(by_code) == {"scjgj-spjyk", "scjgj-djzck"}
    food = by_code["scjgj-spjyk"]
    assert (food.tasks, food.closed, food.closed_on_time, food.closing_rate, food.on_time_rate) == (
        2,
        2,
        1,
        1.0,
        0.5,
    )
    assert food.department_name == "食品经营监管科"
    waiting = by_code["scjgj-djzck"]
    assert (waiting.tasks, waiting.closing_rate, waiting.on_time_rate) == (1, 0.0, None)


def test_a_period_counts_the_tasks_put_under_supervision_in_it():
    instruct("scjgj-spjyk")
    today = timezone.localdate()
    before = today - dt.timedelta(days=400)
    [line] = supervision.figures(actor("supervisor"), before, before + dt.timedelta(days=30))
    assert (line.tasks, line.closing_rate, line.on_time_rate) == (0, None, None)


def test_only_analysts_read_the_figures_and_a_period_must_run_forwards():
    today = timezone.localdate()
    with pytest.raises(NotPermitted):
        supervision.figures(actor("zhangsan"), today, today)
    with pytest.raises(InvalidInput) as caught:
        supervision.figures(actor("supervisor"), today, today - dt.timedelta(days=1))
    assert "end" in caught.value.fields


def test_the_dashboard_and_the_api_show_them(staff_client, client):
    task = instruct("scjgj-spjyk")
    tasks.close(actor("bureau_head"), task.ref, evidence="整改报告已报送。")
    instruct("scjgj-djzck")
    staff_client("supervisor")
    page = client.get("/insight/").content.decode()
    assert 'data-testid="supervision-kpis"' in page
    assert '<tr data-department="scjgj-spjyk">' in page and "食品经营监管科" in page
    today = timezone.localdate()
    body = client.get(f"/api/v1/insight/supervision?start={today - dt.timedelta(days=7)}&end={today}").json()
    assert [(line["department"], line["tasks"], line["closed"]) for line in body] == [
        ("", 2, 1),
        ("scjgj-djzck", 1, 0),
        ("scjgj-spjyk", 1, 1),
    ]
    assert body[0]["closing_rate"] == 0.5 and body[2]["on_time_rate"] == 1.0
    assert client.get(f"/api/v1/insight/supervision?start={today}&end=2020-01-01").status_code == 422
