"""The supervisor's dashboard: KPI cards against targets, the league table of bureaus with its
marks, the radar, targets set by supervisors, and the warning letter to a red unit."""

import datetime as dt
import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import actor
from tests.insight.factories import three_bureaus, write_facts
from tongban.core.errors import InvalidInput, NotPermitted
from tongban.core.models import AuditEntry
from tongban.insight import services


@pytest.fixture
def snapshot(db, settings, tmp_path):
    settings.VAR_DIR = str(tmp_path)
    return write_facts(Path(tmp_path) / "insight" / "facts.parquet", three_bureaus())


def _period():
    today = dt.date.today()
    return today - dt.timedelta(days=29), today


def test_the_league_table_marks_and_colours_the_bureaus(snapshot):
    start, end = _period()
    board = services.dashboard(actor("supervisor"), start, end, league_kpi="on_time_rate")
    assert board.cases == 45
    assert [(u["unit"], u["rank"]) for u in board.units] == [("scjgj", 1), ("xzspj", 2), ("rsj", 3)]
    by_unit = {u["unit"]: u for u in board.units}
    # Targets of the plans: on time 95 % (yellow within 5 % below it).
    assert by_unit["scjgj"]["status"]["on_time_rate"] == "green"  # 10/10
    assert by_unit["xzspj"]["status"]["on_time_rate"] == "yellow"  # 23/25 = 92 %, above 95 % × 0.95
    assert by_unit["rsj"]["status"]["on_time_rate"] == "red"  # 5/10
    assert by_unit["rsj"]["status"]["bad_rate"] == "red"  # 3/10 bad ratings against 5 %
    cards = {c["key"]: c for c in board.cards}
    assert (
        cards["on_time_rate"]["value"] == pytest.approx(38 / 45) and cards["on_time_rate"]["status"] == "red"
    )
    assert board.radar["indicators"] == ["速度", "按时", "网办", "满意", "成本"]
    region_scores = board.radar["series"][0]["values"]
    assert len(region_scores) == 5 and all(0 <= v <= 100 for v in region_scores)
    focus = services.dashboard(actor("supervisor"), start, end, department_code="rsj")
    assert focus.selected["unit"] == "rsj" and len(focus.radar["series"]) == 2
    assert focus.radar["series"][1]["values"][1] == pytest.approx(50.0)  # on time: 50 % vs the best 100 %


def test_targets_set_by_a_supervisor_change_the_colours(snapshot):
    start, end = _period()
    services.set_target(actor("supervisor"), "on_time_rate", 0.5, department_code="rsj")
    board = services.dashboard(actor("supervisor"), start, end)
    assert {u["unit"]: u for u in board.units}["rsj"]["status"]["on_time_rate"] == "green"
    assert AuditEntry.objects.filter(action="insight.target.set", object_ref="on_time_rate:rsj").exists()
    with pytest.raises(InvalidInput) as bad:
        services.set_target(actor("supervisor"), "on_time_rate", 1.5, department_code="nowhere")
    assert set(bad.value.fields) == {"target", "department_code"}
    with pytest.raises(NotPermitted):
        services.set_target(actor("clerk"), "on_time_rate", 0.9)


def test_a_warning_letter_goes_to_a_red_unit_only(snapshot):
    start, end = _period()
    name, content = services.warning_letter(actor("supervisor"), "rsj", "on_time_rate", start, end)
    assert name == "warning-rsj-on_time_rate.pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "效能预警函" in text and "按时办结率" in text and "50.0%" in text and "在3个单位中排第3名" in text
    year = dt.date.today().year
    assert f"效能预警〔{year}〕1号" in text
    assert AuditEntry.objects.filter(action="insight.warning_letter", object_ref="rsj").exists()
    # Fetched again, the same finding keeps its number; another finding takes the next one.
    again = services.warning_letter(actor("supervisor"), "rsj", "on_time_rate", start, end)[1]
    assert f"效能预警〔{year}〕1号" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(again)).pages)
    services.warning_letter(actor("supervisor"), "rsj", "bad_rate", start, end)
    register = services.warning_letters(actor("supervisor"))
    assert [(w.number, w.kpi) for w in register] == [
        (f"效能预警〔{year}〕2号", "bad_rate"),
        (f"效能预警〔{year}〕1号", "on_time_rate"),
    ]
    with pytest.raises(NotPermitted):
        services.warning_letters(actor("clerk"))
    with pytest.raises(InvalidInput):
        services.warning_letter(actor("supervisor"), "scjgj", "on_time_rate", start, end)


def test_the_dashboard_page(snapshot, staff_client, client):
    staff_client("supervisor")
    page = client.get("/insight/?kpi=on_time_rate")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="league-table"' in body and 'data-unit="rsj"' in body and 'id="radar-data"' in body
    assert body.count('data-testid="warning-letter"') == 1
    letter = client.get("/insight/warning/rsj/on_time_rate.pdf")
    assert letter.status_code == 200 and letter["Content-Type"] == "application/pdf"
    register = client.get("/insight/?kpi=on_time_rate").content.decode()
    assert f'data-letter="效能预警〔{dt.date.today().year}〕1号"' in register  # the register lists it
    saved = client.post("/insight/targets", {"kpi": "on_time_rate", "target": "40", "department": "rsj"})
    assert saved.status_code == 302
    from tongban.insight.models import KpiTarget

    stored = KpiTarget.objects.get(kpi="on_time_rate", department_code="rsj")
    assert (stored.target, stored.yellow_margin) == (pytest.approx(0.4), pytest.approx(0.05))  # typed in %
    client.post("/insight/targets", {"kpi": "on_time_rate", "target": "140 %", "department": "rsj"})
    assert KpiTarget.objects.get(pk=stored.pk).target == pytest.approx(0.4)  # refused, nothing changed
    assert (
        client.get("/insight/?kpi=on_time_rate").content.decode().count('data-testid="warning-letter"') == 0
    )


def test_catalogue_kpis_and_the_baseline_comparison(snapshot):
    from tests.insight.factories import fact, write_facts
    from tongban.catalog.demo.loader import load_detail

    load_detail()
    catalogue = services.catalogue_kpis(actor("supervisor"))
    assert catalogue.items > 30
    assert 0 < catalogue.online_items_rate <= 1 and 0 <= catalogue.limit_compression < 1
    assert catalogue.materials_reduction == 0.0 and catalogue.steps_reduction == 0.0  # one version each
    # A baseline a year earlier: twice as slow and dearer.
    year_ago = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=365)
    rows = [fact(f"S{i}", "scjgj", days=2.0) for i in range(10)]
    rows += [fact(f"B{i}", "scjgj", days=4.0, when=year_ago) | {"staff_minutes": 80.0} for i in range(10)]
    write_facts(snapshot, rows)
    start, end = _period()
    base = (start - dt.timedelta(days=365), end - dt.timedelta(days=365))
    result = services.against_baseline(actor("supervisor"), (start, end), base)
    assert result["speed_up"] == pytest.approx(0.5)
    # Cost: 20 min × 80/h + 2 pages × 0.5 = 27.67 now, 80 min → 107.67 then.
    assert result["cost_reduction"] == pytest.approx(1 - (20 / 60 * 80 + 1) / (80 / 60 * 80 + 1))


def test_the_monthly_report_as_xlsx_and_pdf(snapshot, settings):
    from openpyxl import load_workbook

    today = dt.date.today() - dt.timedelta(days=3)  # the month the facts' cases were closed in
    xlsx, pdf = services.monthly_report(actor("supervisor"), today.year, today.month)
    assert xlsx.name == f"{today:%Y-%m}.xlsx" and pdf.exists()
    assert load_workbook(xlsx).sheetnames == ["全区指标", "部门排行"]
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "政务服务效能月报" in text and "按时办结率" in text and "预警单位" in text
    with pytest.raises(InvalidInput):
        services.monthly_report(actor("supervisor"), today.year, 13)
    from tongban.insight import tasks

    assert tasks.monthly_report.call_local()  # the job itself, run here (last month: no cases)


def test_reports_are_made_and_downloaded_from_the_dashboard(snapshot, staff_client, client):
    staff_client("supervisor")
    month = (dt.date.today() - dt.timedelta(days=3)).strftime("%Y-%m")
    assert client.post("/insight/reports", {"month": month}).status_code == 302
    page = client.get("/insight/").content.decode()
    assert f"/insight/reports/{month}.pdf" in page
    pdf = client.get(f"/insight/reports/{month}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get("/insight/reports/../../etc.pdf").status_code == 404
    assert client.get("/insight/reports/2099-01.xlsx").status_code == 404


def test_a_recorded_redesign_is_set_against_what_was_measured(snapshot):
    from tests.conftest import shared_data_dir
    from tests.insight.factories import fact, write_facts

    logs = Path(shared_data_dir()) / "eventlogs"
    log = services.import_log(actor("supervisor"), logs / "running-example.xes")
    _log, _steps, result = services.what_if(
        actor("supervisor"), log.public_id, remove=["reinitiate request"], replications=5
    )
    live = dt.date.today() - dt.timedelta(days=30)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    # Before going live cases took 4 days from submission to closing, since then 3 days.
    rows = [fact(f"B{i}", "scjgj", when=now - dt.timedelta(days=40)) for i in range(5)]
    rows += [fact(f"A{i}", "scjgj", when=now - dt.timedelta(days=5)) for i in range(5)]
    for row in rows:
        row["submitted_at"] = row["closed_at"] - dt.timedelta(days=4 if row["number"].startswith("B") else 3)
    write_facts(snapshot, rows)
    services.save_redesign(
        actor("supervisor"),
        log.public_id,
        name="取消重新申请",
        live_from=live,
        item_code="",
        changes={"remove": ["reinitiate request"]},
        comparison=result,
    )
    (row,) = services.redesigns(actor("supervisor"))
    assert row["predicted_saving"] == pytest.approx(result.cycle_time_saving)
    assert row["measured_saving"] == pytest.approx(0.25) and row["cases_after"] == 5
    with pytest.raises(InvalidInput) as bad:
        services.save_redesign(
            actor("supervisor"), log.public_id, name="", live_from=None, changes={}, comparison=result
        )
    assert set(bad.value.fields) == {"name", "live_from"}


def test_the_dashboard_filters_by_channel_and_region(snapshot, staff_client, client):
    from tests.insight.factories import fact, write_facts

    rows = [fact(f"O{i}", "scjgj") for i in range(4)]
    rows += [fact(f"W{i}", "rsj") | {"channel": "window", "region": "511621"} for i in range(2)]
    write_facts(snapshot, rows)
    start, end = _period()
    assert services.dashboard(actor("supervisor"), start, end, channel="window").region["closed_cases"] == 2
    assert services.dashboard(actor("supervisor"), start, end, region="511602").region["closed_cases"] == 4
    assert services.dashboard(actor("supervisor"), start, end, region="511600").region["closed_cases"] == 6
    staff_client("supervisor")
    page = client.get("/insight/?channel=window").content.decode()
    assert 'data-testid="period-presets"' in page and 'value="window" selected' in page


def test_a_bureau_alone_and_red_is_not_praised_and_its_letter_gives_no_rank(db, settings, tmp_path):
    from tests.insight.factories import fact

    settings.VAR_DIR = str(tmp_path)
    late = [fact(f"L{i}", "rsj", on_time=False) for i in range(4)]
    write_facts(Path(tmp_path) / "insight" / "facts.parquet", late)
    start, end = _period()
    board = services.dashboard(actor("supervisor"), start, end, league_kpi="on_time_rate")
    (unit,) = board.units
    assert unit["on_time_rate"] == 0.0 and unit["status"]["on_time_rate"] == "red" and unit["mark"] == ""
    content = services.warning_letter(actor("supervisor"), "rsj", "on_time_rate", start, end)[1]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "个单位中排第" not in text and "全区为0.0%" in text
