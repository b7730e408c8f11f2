"""KPI formulas (DOMAIN.md) against values worked out by hand on a handful of cases, and the case
facts exported from our own cases."""

import datetime as dt

import pytest

from tongban.insight import eventlog, facts, kpis

DAY = dt.date(2026, 11, 2)  # a Monday
COLUMNS = ", ".join(facts.COLUMNS)


def _row(number, **values):
    base = {
        "number": number,
        "department": "scjgj",
        "department_path": "/gov/scjgj/",
        "region": "511602",
        "item": "FOOD",
        "channel": "online",
        "window_kind": None,
        "status": "issued",
        "decision": "approve",
        "submitted_at": dt.datetime(2026, 11, 2, 2, 0),  # 10:00 in 广安
        "accepted_at": dt.datetime(2026, 11, 2, 3, 0),
        "closed_at": dt.datetime(2026, 11, 4, 3, 0),
        "limit_days": 3,
        "statutory_days": 10,
        "promised_days": 3,
        "processing_days": 2.0,
        "on_time": True,
        "visits": 0,
        "by_commitment": False,
        "auto_eligible": False,
        "auto_decided": False,
        "materials_required": 4,
        "materials_exempted": 2,
        "materials_paper": 0,
        "pages": 2,
        "staff_minutes": 30.0,
        "rating": None,
        "bad_rectified_in_time": None,
    }
    base.update(values)
    return base


@pytest.fixture
def con():
    rows = [
        _row("A", rating=5),
        _row(
            "B",
            channel="window",
            window_kind="comprehensive",
            visits=1,
            processing_days=4.0,
            on_time=False,
            rating=2,
            bad_rectified_in_time=True,
            materials_exempted=0,
        ),
        _row(
            "C",
            channel="window",
            window_kind="specialised",
            visits=2,
            materials_paper=1,
            processing_days=3.0,
            rating=1,
            bad_rectified_in_time=False,
        ),
        _row(
            "D",
            auto_eligible=True,
            auto_decided=True,
            processing_days=0.0,
            staff_minutes=0.0,
            rating=4,
            materials_exempted=4,
        ),
        _row(
            "E",
            auto_eligible=True,
            auto_decided=False,
            processing_days=1.0,
            department="rsj",
            department_path="/gov/rsj/",
            region="511621",
        ),
        # Submitted in the period, still open: counts for intake figures only.
        _row(
            "F",
            status="in_progress",
            closed_at=None,
            processing_days=None,
            on_time=None,
            pages=0,
            staff_minutes=0.0,
        ),
        # Closed the month before: outside the period.
        _row("G", submitted_at=dt.datetime(2026, 10, 1, 2), closed_at=dt.datetime(2026, 10, 2, 2)),
    ]
    connection = eventlog.connect()
    connection.execute(
        "CREATE TABLE facts ("
        + ", ".join(f"{c} {facts.TYPES.get(c, 'VARCHAR')}" for c in facts.COLUMNS)
        + ")"
    )
    for row in rows:
        connection.execute(
            f"INSERT INTO facts ({COLUMNS}) VALUES ({', '.join('?' * len(facts.COLUMNS))})",
            [row[c] for c in facts.COLUMNS],
        )
    return connection


def test_every_kpi_by_hand(con):
    (k,) = kpis.compute(
        con, DAY, DAY + dt.timedelta(days=6), costs=kpis.UnitCosts(staff_hour=60, page=0.5, visit=100)
    )
    assert (k["submitted_cases"], k["closed_cases"]) == (6, 5)  # F open; G outside
    # Issued with no visit and no paper: A, D, E of A–E.
    assert k["online_completion_rate"] == pytest.approx(3 / 5)
    # Window cases B (综合窗口) and C (department window).
    assert k["one_window_rate"] == pytest.approx(1 / 2)
    assert k["on_time_rate"] == pytest.approx(4 / 5)  # B was late
    assert k["mean_processing_days"] == pytest.approx((2 + 4 + 3 + 0 + 1) / 5)
    assert k["median_processing_days"] == pytest.approx(2.0)
    assert k["visits_per_case"] == pytest.approx(3 / 5) and k["zero_visit_rate"] == pytest.approx(3 / 5)
    # 免提交: over the six submitted cases: 2 + 0 + 2 + 4 + 2 + 2 = 12 of 24 required materials.
    assert k["exemption_rate"] == pytest.approx(12 / 24)
    assert k["auto_rate"] == pytest.approx(1 / 2) and k["intervention_rate"] == pytest.approx(1 / 2)
    # Ratings: A 5, B 2, C 1, D 4 → good 2/4, bad 2/4, of the bad B rectified in time.
    assert (k["good_rate"], k["bad_rate"], k["rectified_rate"]) == (0.5, 0.5, 0.5)
    # Cost: 30 min × 60/h + 2 pages × 0.5 + visits × 100 — A 31, B 131, C 231, D 1, E 31.
    assert k["cost_per_case"] == pytest.approx((31 + 131 + 231 + 1 + 31) / 5)


def test_filters_and_the_league_table(con):
    rows = kpis.compute(con, DAY, DAY + dt.timedelta(days=6), by="department")
    assert [r["unit"] for r in rows] == ["rsj", "scjgj"]
    only_rsj = kpis.compute(con, DAY, DAY + dt.timedelta(days=6), department_path="/gov/rsj/")
    assert only_rsj[0]["closed_cases"] == 1 and only_rsj[0]["on_time_rate"] == 1.0
    table = kpis.league(rows, "mean_processing_days", top=1, bottom=1)
    assert [(r["unit"], r["rank"], r["mark"]) for r in table] == [("rsj", 1, "top"), ("scjgj", 2, "bottom")]
    assert kpis.status(0.93, 0.95, direction="high") == "yellow"
    assert kpis.status(0.80, 0.95, direction="high") == "red"
    assert kpis.status(2.0, 3.0, direction="low") == "green"
    assert kpis.status(None, 3.0, direction="low") == ""


def test_the_facts_of_our_own_cases(db, tmp_path):
    from tongban.cases.demo import load_sample_cases
    from tongban.catalog.demo.loader import load_detail

    load_detail()
    load_sample_cases()
    assert facts.export(tmp_path / "facts.parquet") == 6
    con = eventlog.connect()
    con.execute(f"CREATE TABLE facts AS SELECT * FROM read_parquet('{tmp_path / 'facts.parquet'}')")
    issued = con.execute(
        "SELECT status, processing_days, on_time, staff_minutes >= 0, pages "
        "FROM facts WHERE status = 'issued'"
    ).fetchall()
    assert len(issued) == 1 and issued[0][1] is not None and issued[0][2] is not None and issued[0][4] == 2
    today = dt.date.today()
    (k,) = kpis.compute(con, today - dt.timedelta(days=60), today + dt.timedelta(days=1))
    assert k["submitted_cases"] == 6 and k["closed_cases"] == 1


def test_the_report_from_the_command_line_and_as_xlsx(db, settings, tmp_path):
    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from tongban.cases.demo import load_sample_cases
    from tongban.catalog.demo.loader import load_detail
    from tongban.cli.main import app

    settings.VAR_DIR = str(tmp_path)
    load_detail()
    load_sample_cases()
    out = tmp_path / "kpi.xlsx"
    today = dt.date.today()
    done = CliRunner().invoke(
        app,
        ["insight", "report", "--from", str(today - dt.timedelta(days=60)), "--xlsx", str(out)],
        env={"COLUMNS": "200"},
    )
    assert done.exit_code == 0, done.output
    assert "KPIs" in done.output and "Wrote" in done.output
    book = load_workbook(out)
    assert book.sheetnames == ["全区指标", "部门排行"]
    assert book["全区指标"]["A2"].value == "全程网办率"
    bad = CliRunner().invoke(app, ["insight", "report", "--from", "2026-12-01", "--to", "2026-11-01"])
    assert bad.exit_code == 2


def test_a_short_league_table_never_marks_a_unit_both_top_and_bottom():
    rows = [{"unit": u, "on_time_rate": v} for u, v in (("a", 0.9), ("b", 0.8), ("c", 0.5))]
    assert [r["mark"] for r in kpis.league(rows, "on_time_rate")] == ["top", "top", "bottom"]
    many = [{"unit": str(i), "on_time_rate": i / 100} for i in range(20)]
    marks = [r["mark"] for r in kpis.league(many, "on_time_rate")]
    assert marks.count("top") == 10 and marks.count("bottom") == 5 and marks[:10] == ["top"] * 10


def test_a_unit_alone_or_red_on_its_target_is_never_praised_and_ties_share_a_rank():
    alone = kpis.league(
        [{"unit": "a", "on_time_rate": 0.0, "status": {"on_time_rate": "red"}}], "on_time_rate"
    )
    assert [(r["rank"], r["mark"]) for r in alone] == [(1, "")]
    red = {"on_time_rate": "red"}
    rows = [
        {"unit": "a", "on_time_rate": 0.0, "status": red},
        {"unit": "b", "on_time_rate": 0.0, "status": red},
        {"unit": "c", "on_time_rate": 0.5, "status": {"on_time_rate": "green"}},
        {"unit": "d", "on_time_rate": 0.2, "status": red},
    ]
    table = kpis.league(rows, "on_time_rate")
    assert [(r["unit"], r["rank"], r["mark"]) for r in table] == [
        ("c", 1, "top"),
        ("d", 2, ""),
        ("a", 3, "bottom"),
        ("b", 3, "bottom"),
    ]


def test_regions_take_in_everything_below_them(con):
    period = (DAY, DAY + dt.timedelta(days=6))
    assert kpis.compute(con, *period, region="511621")[0]["closed_cases"] == 1  # 岳池县 alone
    assert kpis.compute(con, *period, region="511600")[0]["closed_cases"] == 5  # 广安市: both counties
    assert kpis.compute(con, *period, region="510000")[0]["closed_cases"] == 5  # 四川省
    assert (
        kpis.compute(con, *period, region="110000") == []
        or kpis.compute(con, *period, region="110000")[0]["closed_cases"] == 0
    )
    assert {r["unit"] for r in kpis.compute(con, *period, by="region")} == {"511602", "511621"}
