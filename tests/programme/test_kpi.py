"""KPI-bound tasks: measured every night from the case facts (insight's KPIs), recorded as a
series, achieved only when the target has held for the set number of consecutive days."""

import datetime as dt

import pytest

from tests.insight.factories import fact, write_facts
from tongban.core import events
from tongban.core.authz import SYSTEM
from tongban.programme import services
from tongban.programme.models import KpiMeasurement, Task, TaskStatus
from tongban.programme.transfer import COLUMNS

from .conftest import plan_xlsx


def _kpi_plan(rows):
    """The network, plus two KPI-bound tasks (columns appended after the plan's own)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    keys = list(COLUMNS)
    sheet.append([COLUMNS[k] for k in keys])
    for row in rows:
        sheet.append([row.get(k, "") for k in keys])
    import io

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


BASE = {"project_code": "K", "project_name": "指标任务", "owner_department": "scjgj", "start": "2026-11-02"}


@pytest.fixture
def facts(settings, tmp_path):
    settings.VAR_DIR = str(tmp_path)
    rows = [fact(f"S{i}", "scjgj", on_time=i < 19) for i in range(20)]  # 95 % on time
    rows += [fact(f"X{i}", "xzspj", on_time=i < 8) for i in range(10)]  # 80 %
    write_facts(tmp_path / "insight" / "facts.parquet", rows)


def test_a_kpi_task_is_achieved_only_after_the_target_holds(planner, programme, facts):
    data = _kpi_plan(
        [
            {
                **BASE,
                "code": "K1",
                "name": "市场监管局按时办结率≥90%",
                "duration": 20,
                "kpi": "按时办结率",
                "kpi_department": "scjgj",
                "kpi_target": "90%",
                "kpi_hold": 3,
            },
            {
                **BASE,
                "code": "K2",
                "name": "审批局按时办结率≥90%",
                "duration": 20,
                "kpi": "on_time_rate",
                "kpi_department": "xzspj",
                "kpi_target": 0.9,
                "kpi_hold": 3,
            },
        ]
    )
    services.import_plan(planner, programme.code, data)
    k1 = Task.objects.get(programme=programme, code="K1")
    assert (k1.kpi, k1.kpi_target, k1.kpi_hold_days, k1.kpi_department.code) == (
        "on_time_rate",
        0.9,
        3,
        "scjgj",
    )
    with pytest.raises(Exception) as refused:  # done is claimed by measurement, not by hand
        services.report_progress(planner, programme.code, "K1", percent=100)
    assert "kpi_not_met" in str(refused.value.as_dict())

    today = dt.date.today()
    for day in range(3):
        results = {
            r.task.code: r
            for r in services.measure_kpis(SYSTEM, on=today + dt.timedelta(days=day), refresh=False)
        }
        assert results["K1"].value == pytest.approx(0.95) and results["K1"].met
        assert results["K2"].value == pytest.approx(0.8) and not results["K2"].met
        assert results["K1"].achieved is (day == 2)
    k1.refresh_from_db()
    assert (k1.status, k1.percent, k1.kpi_achieved_on) == (TaskStatus.DONE, 100, today + dt.timedelta(days=2))
    assert Task.objects.get(programme=programme, code="K2").status == TaskStatus.NOT_STARTED
    assert [m["value"] for m in services.kpi_series(planner, programme.code, "K1")] == [
        pytest.approx(0.95)
    ] * 3
    history = [e.activity for e in events.history("programme_task", f"{programme.code}/K1")]
    assert history[-2:] == ["programme_task.kpi_measured", "programme_task.kpi_achieved"]
    # an achieved task is not measured again
    assert [
        r.task.code for r in services.measure_kpis(SYSTEM, on=today + dt.timedelta(days=3), refresh=False)
    ] == ["K2"]


def test_a_gap_in_the_measurements_restarts_the_count(planner, programme, facts):
    data = _kpi_plan(
        [
            {
                **BASE,
                "code": "K1",
                "name": "按时办结率",
                "duration": 20,
                "kpi": "on_time_rate",
                "kpi_department": "scjgj",
                "kpi_target": 0.9,
                "kpi_hold": 2,
            }
        ]
    )
    services.import_plan(planner, programme.code, data)
    today = dt.date.today()
    services.measure_kpis(SYSTEM, on=today, refresh=False)
    (result,) = services.measure_kpis(SYSTEM, on=today + dt.timedelta(days=2), refresh=False)
    assert result.met and not result.achieved
    (result,) = services.measure_kpis(SYSTEM, on=today + dt.timedelta(days=3), refresh=False)
    assert result.achieved
    assert KpiMeasurement.objects.filter(task__code="K1").count() == 3


def test_bad_kpi_columns_are_row_problems(planner, programme):
    data = _kpi_plan(
        [
            {
                **BASE,
                "code": "K1",
                "name": "x",
                "duration": 5,
                "kpi": "幸福指数",
                "kpi_target": "很高",
                "kpi_region": "51",
                "kpi_hold": 0,
            }
        ]
    )
    with pytest.raises(services.ImportRejected) as caught:
        services.import_plan(planner, programme.code, data)
    assert {p.field for p in caught.value.problems} == {"kpi", "kpi_target", "kpi_region", "kpi_hold"}


def test_the_plan_without_kpis_still_exports_and_reads_back(planner, programme):
    services.import_plan(planner, programme.code, plan_xlsx())
    _name, data = services.export_plan(planner, programme.code)
    other = services.create_programme(planner, code="COPY2", name="副本", department_code="gov")
    assert services.import_plan(planner, other.code, data).tasks == 7
