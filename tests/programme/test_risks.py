"""The risk register: likelihood × impact scores and their red/yellow/green, the score history kept
on every change, the 5 × 5 matrix of open risks, review dates, links to tasks, field errors, and the
register's rows beside the schedule risks of the Monte Carlo simulation."""

import datetime as dt

import pytest

from tongban.core.errors import InvalidInput, NotPermitted
from tongban.programme import risks, services

from ..conftest import actor
from .conftest import plan_xlsx


def test_scores_levels_history_and_matrix(planner, planned):
    first = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)
    risk = risks.set_risk(
        planner,
        planned.code,
        code="R1",
        name="系统改造延期",
        cause="供应商人手不足",
        owner_department="xzspj",
        likelihood=3,
        impact=4,
        response="每周督办供应商进度",
        review_on="2026-10-20",
        tasks="C、E",
        note="初评",
        now=first,
    )
    assert (risk.score, risks.level(risk.score)) == (12, "yellow")
    assert sorted(t.code for t in risk.tasks.all()) == ["C", "E"]
    # the response is updated without a new score: no new history row
    risks.set_risk(
        planner,
        planned.code,
        code="R1",
        name="系统改造延期",
        likelihood="3",
        impact="4",
        response="增派人员",
        tasks="C",
        now=first + dt.timedelta(days=1),
    )
    risks.set_risk(
        planner,
        planned.code,
        code="R1",
        name="系统改造延期",
        likelihood=4,
        impact=4,
        note="供应商再次延期",
        tasks="C",
        review_on="2026-10-20",
        now=first + dt.timedelta(days=7),
    )
    risks.set_risk(planner, planned.code, code="R2", name="窗口人员培训不足", likelihood=1, impact=2)
    risks.set_risk(planner, planned.code, code="R3", name="已解决", likelihood=5, impact=5, status="closed")
    data = risks.register(planner, planned.code, on=dt.date(2026, 10, 21))
    rows = {row["risk"].code: row for row in data["rows"]}
    assert [row["risk"].code for row in data["rows"]] == ["R1", "R2", "R3"]  # open by score, closed last
    assert (rows["R1"]["score"], rows["R1"]["level"], rows["R1"]["review_due"]) == (16, "red", True)
    assert [(h.score, h.note) for h in rows["R1"]["history"]] == [(12, "初评"), (16, "供应商再次延期")]
    assert (rows["R2"]["level"], rows["R2"]["review_due"]) == ("green", False)
    assert data["counts"] == {"red": 1, "yellow": 0, "green": 1}  # the closed risk is not counted
    cell = {(row["likelihood"], c["impact"]): c for row in data["matrix"] for c in row["cells"]}
    assert cell[(4, 4)]["codes"] == ["R1"] and cell[(1, 2)]["codes"] == ["R2"] and cell[(5, 5)]["codes"] == []
    assert (cell[(5, 5)]["level"], cell[(2, 4)]["level"], cell[(1, 1)]["level"]) == ("red", "yellow", "green")
    assert data["matrix"][0]["likelihood"] == 5  # likely risks on top, as the matrix is drawn


def test_thresholds_are_settings(settings):
    settings.TONGBAN_PROGRAMME_RISK_RED_AT = 20
    settings.TONGBAN_PROGRAMME_RISK_YELLOW_AT = 5
    assert (risks.level(16), risks.level(5), risks.level(4), risks.level(None)) == (
        "yellow",
        "yellow",
        "green",
        "none",
    )


def test_bad_entries_are_field_errors_and_only_planners_write(planner, planned):
    with pytest.raises(InvalidInput) as caught:
        risks.set_risk(
            planner,
            planned.code,
            code="R 1",
            name="",
            likelihood=0,
            impact="六",
            owner_department="nowhere",
            review_on="someday",
            tasks="Z",
        )
    assert set(caught.value.fields) == {
        "code",
        "name",
        "likelihood",
        "impact",
        "owner_department",
        "review_on",
        "tasks",
    }
    assert str(caught.value.fields["impact"][0].message) == "请输入 1 到 5 之间的整数。"
    with pytest.raises(NotPermitted):
        risks.set_risk(actor("bureau_head"), planned.code, code="R1", name="x", likelihood=1, impact=1)


def test_register_entries_leave_the_schedule_risk_alone(planner, programme):
    services.import_plan(planner, programme.code, plan_xlsx(risks=[("S1", "审批系统故障", "50%", 4, "C")]))
    risks.set_risk(planner, programme.code, code="R9", name="舆情风险", likelihood=2, impact=5)
    result = services.schedule_risk(planner, programme.code, runs=200, seed=1)
    assert result["p90"] >= result["deterministic"]
    imported = risks.register(planner, programme.code)["rows"]
    assert {row["risk"].code: row["score"] for row in imported} == {"R9": 10, "S1": None}


def test_the_register_page(staff_client, planned):
    client = staff_client("supervisor")
    url = f"/programme/{planned.code}/risks"
    bad = client.post(url, {"code": "R1", "name": "延期", "likelihood": "9", "impact": "2", "status": "open"})
    assert bad.status_code == 422 and "请输入 1 到 5 之间的整数。" in bad.content.decode()
    ok = client.post(
        url, {"code": "R1", "name": "延期", "likelihood": "5", "impact": "4", "status": "open", "tasks": "C"}
    )
    assert ok.status_code == 302
    page = client.get(url).content.decode()
    assert 'data-risk="R1" data-level="red"' in page and 'data-cell="5-4"' in page and "5 × 4 = 20" in page
