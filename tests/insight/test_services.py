"""Insight use cases: who may import and analyse, our own case events as a log, field-level refusals."""

from pathlib import Path

import pytest

from tests.conftest import actor, shared_data_dir
from tongban.core.errors import InvalidInput, NotFound, NotPermitted
from tongban.core.models import AuditEntry
from tongban.insight import services
from tongban.insight.models import EventLog, LogSource

LOGS = Path(shared_data_dir()) / "eventlogs"


def test_a_supervisor_imports_and_analyses_a_log_and_a_clerk_may_not(db, settings, tmp_path):
    settings.VAR_DIR = str(tmp_path)
    with pytest.raises(NotPermitted):
        services.import_log(actor("clerk"), LOGS / "running-example.xes")
    log = services.import_log(actor("supervisor"), LOGS / "running-example.xes", name="教学示例")
    assert (log.source, log.events, log.cases, log.activities) == (LogSource.XES, 42, 6, 8)
    assert services.log_path(log).exists()
    assert AuditEntry.objects.filter(action="insight.log.import", object_ref=str(log.public_id)).exists()
    analysis = services.analyse(actor("data_officer"), log.public_id)
    assert analysis.overview.events == 42 and analysis.graph.counts()[("check ticket", "decide")] == 6
    assert analysis.bottlenecks and analysis.rework
    with pytest.raises(NotPermitted):
        services.analyse(actor("reviewer"), log.public_id)
    with pytest.raises(NotFound):
        services.analyse(actor("supervisor"), "00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFound):
        services.analyse(actor("supervisor"), "not-a-uuid")
    name, content = services.export_xes(actor("supervisor"), log.public_id)
    assert name.endswith(".xes") and content.count(b"<event>") == 42


def test_a_csv_with_a_bad_mapping_is_refused_per_field_and_nothing_is_kept(db, settings, tmp_path):
    settings.VAR_DIR = str(tmp_path)
    with pytest.raises(InvalidInput) as refused:
        services.import_log(
            actor("supervisor"),
            LOGS / "receipt.csv",
            mapping={"case_id": "case:concept:name", "activity": "nope"},
        )
    # The mapping's gaps are guessed (ts: time:timestamp); what it names wrongly is refused.
    assert set(refused.value.fields) == {"mapping.activity"}
    assert not EventLog.objects.exists()
    assert (
        not list((tmp_path / "insight" / "logs").glob("*.parquet"))
        if (tmp_path / "insight").exists()
        else True
    )
    with pytest.raises(InvalidInput) as missing:
        services.import_log(actor("supervisor"), tmp_path / "nothing.csv")
    assert "file" in missing.value.fields


def test_our_case_events_become_a_log(db, settings, tmp_path, django_capture_on_commit_callbacks):
    from tongban.cases.demo import load_sample_cases
    from tongban.catalog.demo.loader import load_detail

    settings.VAR_DIR = str(tmp_path)
    load_detail()
    assert load_sample_cases() == 6
    log = services.import_case_events(actor("supervisor"), name="示例办件")
    assert log.source == LogSource.CASES and log.cases == 6
    analysis = services.analyse(actor("supervisor"), log.public_id)
    assert analysis.graph.start == {"case.submitted": 6}
    assert analysis.overview.events == log.events > 6


def test_the_command_line_imports_mines_and_exports(db, settings, tmp_path):
    from typer.testing import CliRunner

    from tongban.cli.main import app

    settings.VAR_DIR = str(tmp_path)
    runner = CliRunner()
    env = {"COLUMNS": "200"}
    done = runner.invoke(
        app, ["insight", "import", str(LOGS / "receipt.csv"), "--name", "WABO receipt"], env=env
    )
    assert done.exit_code == 0, done.output
    assert "8,577 events, 1,434 cases" in done.output
    log = EventLog.objects.get(name="WABO receipt")
    mined = runner.invoke(app, ["insight", "mine", str(log.public_id), "--top", "3"], env=env)
    assert mined.exit_code == 0, mined.output
    assert "Confirmation of receipt" in mined.output and "Bottlenecks" in mined.output
    out = tmp_path / "receipt.ocel.json"
    exported = runner.invoke(
        app, ["insight", "export", str(log.public_id), str(out), "--format", "ocel"], env=env
    )
    assert exported.exit_code == 0 and out.stat().st_size > 0
    bad = runner.invoke(
        app, ["insight", "import", str(LOGS / "receipt.csv"), "--map", "activity=nope"], env=env
    )
    assert bad.exit_code == 1 and "mapping.activity" in bad.output
    assert runner.invoke(app, ["insight", "mine", "nope"], env=env).exit_code == 1


def test_the_process_map_of_one_item_from_our_cases(db, settings, tmp_path, staff_client, client):
    from tongban.cases.demo import FOOD_LICENCE, load_sample_cases
    from tongban.catalog.demo.loader import load_detail

    settings.VAR_DIR = str(tmp_path)
    load_detail()
    load_sample_cases()
    items = dict(services.case_items())
    assert list(items) == [FOOD_LICENCE]
    log = services.import_case_events(actor("supervisor"), item_code=FOOD_LICENCE)
    assert log.cases == 6 and items[FOOD_LICENCE] in log.name
    with pytest.raises(InvalidInput):
        services.import_case_events(actor("supervisor"), item_code="NOPE")
    staff_client("supervisor")
    assert FOOD_LICENCE.encode() in client.get("/insight/logs/").content
    done = client.post("/insight/logs/cases", {"item": FOOD_LICENCE})
    assert done.status_code == 302 and "/insight/logs/" in done["Location"]


def test_an_ocel_log_is_imported_on_the_case_notion_its_importer_chooses(db, settings, tmp_path):
    import json

    from tests.insight.test_eventlog_import import OCEL

    settings.VAR_DIR = str(tmp_path)
    source = tmp_path / "orders.jsonocel"
    source.write_text(json.dumps(OCEL), encoding="utf-8")
    assert services.object_types(actor("supervisor"), source) == {"item": 3, "order": 2, "package": 1}
    with pytest.raises(InvalidInput) as unchosen:
        services.import_log(actor("supervisor"), source)
    assert list(unchosen.value.fields) == ["object_type"] and not EventLog.objects.exists()
    audit = AuditEntry.objects.get(action="insight.log.import")
    assert "Choose the object type" in audit.detail["error"]  # the journal keeps one language
    log = services.import_log(actor("supervisor"), source, object_type="item")
    assert (log.source, log.events, log.cases, log.mapping) == (LogSource.OCEL, 7, 3, {"object_type": "item"})
    analysis = services.analyse(actor("supervisor"), log.public_id)
    assert analysis.graph.counts()[("place order", "pick item")] == 2


def test_a_log_without_timestamps_is_analysed_in_file_order(db, settings, tmp_path):
    settings.VAR_DIR = str(tmp_path)
    source = tmp_path / "order.csv"
    source.write_text("case,activity\nA,受理\nA,审查\nA,决定\nB,受理\nB,决定\n", encoding="utf-8")
    log = services.import_log(actor("supervisor"), source)
    assert (log.events, log.cases, log.first_at, log.last_at) == (5, 2, None, None)
    analysis = services.analyse(actor("supervisor"), log.public_id)
    assert analysis.graph.counts() == {("受理", "审查"): 1, ("审查", "决定"): 1, ("受理", "决定"): 1}
    assert analysis.value_stream is None and analysis.overview.mean_duration == 0


def test_import_problems_reach_the_caller_by_field_with_file_lines(db, settings, tmp_path):
    from django.utils import translation

    settings.VAR_DIR = str(tmp_path)
    source = tmp_path / "bad.csv"
    source.write_text("case,activity,time\nA,受理,2026-11-02 09:00\nA,决定,tomorrow\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        services.import_log(actor("supervisor"), source)
    (problem,) = refused.value.fields["file"]
    with translation.override("zh-hans"):
        assert str(problem.message) == "第 3 行：时间戳：“tomorrow”不是日期时间"
    with translation.override("en"):
        assert str(problem.message) == "Line 3: timestamp: “tomorrow” is not a date and time"


def test_validating_a_simulation_on_an_ocel_file_asks_to_import_it_first(db, settings, tmp_path):
    import json

    from tests.insight.test_eventlog_import import OCEL

    settings.VAR_DIR = str(tmp_path)
    source = tmp_path / "orders.jsonocel"
    source.write_text(json.dumps(OCEL), encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        services.validate_simulation(actor("supervisor"), source)
    assert refused.value.fields["file"][0].code == "case_notion"


def test_any_subject_kind_on_the_event_log_is_mined_the_same_way(db, settings, tmp_path):
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from tongban.core import events

    settings.VAR_DIR = str(tmp_path)
    events.subject_kind("permit_probe", "permit (test)", app="tests")
    for code in ("permit.filed", "permit.checked", "permit.granted"):
        events.activity(code, code, subject_kind="permit_probe", app="tests")
    start = timezone.now() - dt.timedelta(days=3)
    made = []
    for n in range(4):
        path = (
            ["permit.filed", "permit.checked", "permit.granted"]
            if n % 2
            else ["permit.filed", "permit.granted"]
        )
        made += [
            events.make("permit_probe", f"P{n}", code, at=start + dt.timedelta(hours=10 * n + i))
            for i, code in enumerate(path)
        ]
    with transaction.atomic():
        events.write(made)
    log = services.import_subject_events(actor("supervisor"), "permit_probe")
    assert (log.source, log.cases, log.events, log.activities) == (LogSource.EVENTS, 4, 10, 3)
    analysis = services.analyse(actor("supervisor"), log.public_id)
    assert analysis.graph.start == {"permit.filed": 4}
    counts = analysis.graph.counts()
    assert counts[("permit.filed", "permit.checked")] == 2 and counts[("permit.filed", "permit.granted")] == 2
    with pytest.raises(InvalidInput):
        services.import_subject_events(actor("supervisor"), "no_such_kind")
