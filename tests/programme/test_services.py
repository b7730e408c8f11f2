"""The programme office's use cases: import (all or nothing, row by row), who may do what,
rescheduling with dependents, progress and red/yellow/green, export and the 三单."""

import datetime as dt
import io
import zipfile

import pytest
from openpyxl import load_workbook

from tongban.core import events
from tongban.core.errors import InvalidInput, NotFound, NotPermitted
from tongban.core.models import AuditEntry
from tongban.programme import services
from tongban.programme.models import Dependency, Project, Risk, Task, TaskStatus

from ..conftest import actor
from .conftest import NETWORK, plan_xlsx


def test_import_reports_every_bad_row_and_saves_nothing(planner, programme):
    bad = [
        ("P1", "A", "梳理", "任务", "scjgj", "2026-09-28", 3, "", "", "", ""),
        ("P1", "A", "重复", "任务", "nowhere", "2026-02-30", "", "Z", "", "", ""),
        ("P1", "B", "", "工作", "scjgj", "2026-09-28", "x", "A++", 5, 3, 1),
    ]
    with pytest.raises(services.ImportRejected) as caught:
        services.import_plan(planner, programme.code, plan_xlsx(bad))
    found = {(p.row, p.field, p.code) for p in caught.value.problems}
    assert {
        (3, "code", "duplicate"),
        (3, "owner_department", "unknown"),
        (3, "start", "invalid"),
        (3, "predecessors", "unknown"),
        (4, "name", "required"),
        (4, "kind", "invalid"),
        (4, "predecessors", "invalid"),
    } <= found
    assert Task.objects.filter(programme=programme).count() == 0
    assert Project.objects.filter(programme=programme).count() == 0
    body = caught.value.as_dict()
    assert body["fields"]["tasks.3.start"][0]["message"] == {
        "zh-Hans": "请按 YYYY-MM-DD 格式输入日期。",
        "en": "Enter a date as YYYY-MM-DD.",
    }
    assert {"sheet": "tasks", "row": 3, "field": "owner_department", "code": "unknown"} in [
        {k: r[k] for k in ("sheet", "row", "field", "code")} for r in body["rows"]
    ]


def test_a_loop_of_links_is_a_row_problem(planner, programme):
    rows = [
        ("P1", "A", "甲", "任务", "scjgj", "2026-09-28", 2, "C", "", "", ""),
        ("P1", "B", "乙", "任务", "scjgj", "2026-09-28", 2, "A", "", "", ""),
        ("P1", "C", "丙", "任务", "scjgj", "2026-09-28", 2, "B", "", "", ""),
    ]
    with pytest.raises(services.ImportRejected) as caught:
        services.import_plan(planner, programme.code, plan_xlsx(rows))
    assert {(p.row, p.code) for p in caught.value.problems} == {(2, "cycle"), (3, "cycle"), (4, "cycle")}


@pytest.mark.parametrize(
    "data, code",
    [
        (b"not a workbook", "not_xlsx"),
        (b"PK\x03\x04garbage", "not_xlsx"),
        (b"", "not_xlsx"),
    ],
)
def test_bad_files_are_refused_with_a_reason(planner, programme, data, code):
    with pytest.raises(services.ImportRejected) as caught:
        services.import_plan(planner, programme.code, data)
    assert caught.value.problems[0].code == code


def test_a_zip_bomb_is_refused_before_it_is_unpacked(planner, programme):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    with pytest.raises(services.ImportRejected) as caught:
        services.import_plan(planner, programme.code, out.getvalue())
    assert caught.value.problems[0].code == "decompression_bomb"


def test_an_entity_expansion_in_the_workbook_is_not_expanded(planner, programme):
    data = plan_xlsx()
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    doctype = b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    with zipfile.ZipFile(out, "w") as z:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                head, _sep, rest = body.partition(b"?>")
                body = head + b"?>" + doctype + rest.replace("梳理事项清单".encode(), b"&b;", 1)
            z.writestr(info, body)
    with pytest.raises(services.ImportRejected) as caught:
        services.import_plan(planner, programme.code, out.getvalue())
    assert caught.value.problems[0].code == "not_xlsx"
    assert Task.objects.filter(programme=programme).count() == 0


def test_import_writes_tasks_links_risks_events_and_the_journal(planner, programme):
    report = services.import_plan(
        planner,
        programme.code,
        plan_xlsx(risks=[("R1", "系统对接延期", "30%", 5, "C")]),
    )
    assert (report.tasks, report.projects, report.links, report.risks) == (7, 2, 7, 1)
    assert report.critical == ["A", "B", "D", "E", "F", "M"]
    assert Dependency.objects.filter(successor__programme=programme).count() == 7
    risk = Risk.objects.get(programme=programme)
    assert risk.probability == pytest.approx(0.3) and [t.code for t in risk.tasks.all()] == ["C"]
    history = events.history("programme_task", "LCZZ-2026/D")
    assert [e.activity for e in history] == ["programme_task.planned"]
    assert history[0].detail["start"] == "2026-10-12" and history[0].department_code == "xzspj"
    entry = AuditEntry.objects.filter(action="programme.import_plan").latest("id")
    assert entry.object_ref == "LCZZ-2026" and entry.detail["tasks"] == 7


def test_who_may_read_plan_and_report(planner, planned):
    reviewer = actor("reviewer")  # 市场监管局 食品经营监管科: owns no task (tasks are the bureau's)
    bureau_head = actor("bureau_head")  # 市场监管局: owns A, B, E, M
    handler = actor("handler_zj")  # 住建局: nothing here
    citizen = actor("zhangsan")
    assert services.gantt(bureau_head, planned.code)["may_plan"] is False
    with pytest.raises(NotFound):
        services.gantt(handler, planned.code)
    with pytest.raises(NotPermitted):  # no role of the programme office at all
        services.gantt(citizen, planned.code)
    with pytest.raises(NotFound):
        services.gantt(reviewer, planned.code)
    with pytest.raises(NotPermitted):
        services.import_plan(bureau_head, planned.code, plan_xlsx())
    with pytest.raises(NotPermitted):
        services.reschedule(bureau_head, planned.code, "A", start="2026-10-08")
    services.report_progress(bureau_head, planned.code, "A", percent=50)
    with pytest.raises(NotPermitted):  # C belongs to 行政审批局
        services.report_progress(bureau_head, planned.code, "C", percent=50)
    with pytest.raises(NotPermitted):
        services.create_programme(bureau_head, code="X", name="x", department_code="gov")


def test_dragging_a_task_moves_its_dependents_on_working_days(planner, planned):
    moved = services.reschedule(planner, planned.code, "B", start="2026-10-12")
    d = dt.date
    got = {m.task.code: (m.old_start, m.new_start) for m in moved}
    # B: 12–13 Oct; D after lag 1: 15–16; E: 19–21; F after lag 2: 26; M on 26
    assert got == {
        "B": (d(2026, 10, 8), d(2026, 10, 12)),
        "D": (d(2026, 10, 12), d(2026, 10, 15)),
        "E": (d(2026, 10, 14), d(2026, 10, 19)),
        "F": (d(2026, 10, 21), d(2026, 10, 26)),
        "M": (d(2026, 10, 21), d(2026, 10, 26)),
    }
    tasks = {t.code: t for t in Task.objects.filter(programme=planned)}
    assert tasks["A"].start == d(2026, 9, 28) and tasks["C"].start == d(2026, 10, 8)
    assert tasks["M"].baseline_finish == d(2026, 10, 21)  # the baseline stays
    history = events.history("programme_task", "LCZZ-2026/E")
    assert history[-1].activity == "programme_task.rescheduled"
    assert history[-1].detail == {
        "start": "2026-10-19",
        "finish": "2026-10-21",
        "shift": 3,
        "cause": "predecessor",
    }
    data = services.gantt(planner, planned.code)
    # B is now held by its own start, so A has float: 8, 9 and 10 Oct
    assert data["critical_path"] == ["B", "D", "E", "F", "M"]
    assert {t["code"]: t["float"] for t in data["tasks"]}["A"] == 3


def test_a_drag_before_the_predecessors_finish_is_refused(planner, planned):
    with pytest.raises(InvalidInput) as caught:
        services.reschedule(planner, planned.code, "D", start="2026-10-09")
    assert caught.value.fields["start"][0].code == "before_predecessors"
    assert "2026-10-12" in str(caught.value.fields["start"][0].message)
    with pytest.raises(InvalidInput) as caught:
        services.reschedule(planner, planned.code, "D", start="not a date")
    assert caught.value.fields["start"][0].code == "invalid"
    assert Task.objects.get(programme=planned, code="D").start == dt.date(2026, 10, 12)


def test_a_weekend_drag_lands_on_the_next_working_day(planner, planned):
    services.reschedule(planner, planned.code, "C", start="2026-10-11")  # a Sunday
    c = Task.objects.get(programme=planned, code="C")
    assert (c.start, c.finish) == (dt.date(2026, 10, 12), dt.date(2026, 10, 15))


def test_traffic_lights_compare_time_used_with_progress(planner, planned):
    e = Task.objects.get(programme=planned, code="E")  # 14–16 Oct, 3 working days
    d = dt.date
    assert services.traffic_light(e, d(2026, 10, 14)) == "green"  # nothing used yet
    assert services.traffic_light(e, d(2026, 10, 15)) == "yellow"  # 1/3 used, 0 done
    assert services.traffic_light(e, d(2026, 10, 16)) == "red"  # 2/3 used, 0 done
    e.percent = 60
    assert services.traffic_light(e, d(2026, 10, 16)) == "green"
    assert services.traffic_light(e, d(2026, 10, 19)) == "red"  # past its deadline, not done
    e.status = TaskStatus.DONE
    assert services.traffic_light(e, d(2026, 10, 19)) == "done"


def test_progress_is_checked_and_logged(planner, planned):
    with pytest.raises(InvalidInput) as caught:
        services.report_progress(planner, planned.code, "A", percent="150")
    assert set(caught.value.fields) == {"percent"}
    with pytest.raises(InvalidInput):
        services.report_progress(planner, planned.code, "A", percent=50, status="done")
    task = services.report_progress(planner, planned.code, "A", percent="100")
    assert task.status == TaskStatus.DONE
    assert events.history("programme_task", "LCZZ-2026/A")[-1].detail == {"percent": 100, "status": "done"}


def test_export_reads_back_as_the_same_plan(planner, planned):
    _name, data = services.export_plan(planner, planned.code)
    other = services.create_programme(planner, code="COPY", name="副本", department_code="gov")
    services.import_plan(planner, other.code, data)
    original = {(t.code, t.start, t.finish, t.kind) for t in Task.objects.filter(programme=planned)}
    copy = {(t.code, t.start, t.finish, t.kind) for t in Task.objects.filter(programme=other)}
    assert original == copy


def test_three_lists_workbook(planner, planned):
    _name, data = services.three_lists(planner, planned.code)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["任务清单", "责任清单", "时限清单"]
    duty = list(book["责任清单"].iter_rows(values_only=True))
    assert duty[0][:4] == ("序号", "任务编号", "任务名称", "牵头部门") and len(duty) == 1 + len(NETWORK)
    deadlines = {r[1]: r for r in book["时限清单"].iter_rows(min_row=2, values_only=True)}
    assert deadlines["F"][4].date() == dt.date(2026, 10, 21)


def test_schedule_risk_is_seeded_and_dated(planner, planned):
    result = services.schedule_risk(planner, planned.code, runs=2000, seed=5)
    again = services.schedule_risk(planner, planned.code, runs=2000, seed=5)
    assert result == again
    assert result["deterministic"] == "2026-10-21"
    assert result["p50"] <= result["p80"] <= result["p90"]
    assert result["criticality"]["B"] > result["criticality"]["C"]
    with pytest.raises(InvalidInput) as caught:
        services.schedule_risk(planner, planned.code, runs="lots", distribution="normal")
    assert set(caught.value.fields) == {"runs", "distribution"}


def test_a_red_task_gets_a_warning_letter_and_a_green_one_does_not(planner, planned):
    _name, pdf = services.warning_letter(planner, planned.code, "E", on=dt.date(2026, 10, 19))  # overdue
    assert pdf.startswith(b"%PDF")
    assert events.history("programme_task", "LCZZ-2026/E")[-1].activity == "programme_task.warned"
    with pytest.raises(InvalidInput) as caught:
        services.warning_letter(planner, planned.code, "E", on=dt.date(2026, 10, 14))
    assert caught.value.fields["task"][0].code == "not_red"
    with pytest.raises(NotPermitted):
        services.warning_letter(actor("bureau_head"), planned.code, "E", on=dt.date(2026, 10, 19))


def test_league_table_ranks_departments_by_on_time_delivery(planner, planned, monkeypatch):
    monkeypatch.setattr(services, "today", lambda: dt.date(2026, 9, 30))
    services.report_progress(planner, planned.code, "A", percent=100)  # 市场监管局, on its deadline
    monkeypatch.setattr(services, "today", lambda: dt.date(2026, 10, 14))
    services.report_progress(planner, planned.code, "C", percent=100)  # 审批局, two days late
    table = services.league_table(planner, planned.code, on=dt.date(2026, 10, 15))
    rows = {r["code"]: r for r in table}
    # due by 15 Oct: 市场监管局 A (on time), B (overdue); 审批局 C (late), D (overdue)
    assert (rows["scjgj"]["due"], rows["scjgj"]["on_time"], rows["scjgj"]["overdue"]) == (2, 1, 1)
    assert (rows["xzspj"]["due"], rows["xzspj"]["late"], rows["xzspj"]["overdue"]) == (2, 1, 1)
    assert [r["code"] for r in table][:2] == ["scjgj", "xzspj"] and rows["scjgj"]["rate"] == 0.5
    assert rows["ggb"]["due"] == 0 and rows["ggb"]["rate"] is None and rows["ggb"]["rank"] == 3
