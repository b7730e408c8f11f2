"""Process mining on the classic running example (6 cases, 42 events), against values worked out by
hand from the file's traces, and the event log's import and export (refusals: test_eventlog_import)."""

import gzip
import io
import json
from pathlib import Path

import pytest

from tests.conftest import shared_data_dir
from tongban.insight import eventlog, mining

LOGS = Path(shared_data_dir()) / "eventlogs"
RUNNING = LOGS / "running-example.xes"
HOUR = 3600.0


@pytest.fixture
def running(tmp_path):
    eventlog.import_xes(RUNNING, tmp_path / "running.parquet")
    con = eventlog.connect()
    eventlog.load(con, tmp_path / "running.parquet")
    return con


def test_the_directly_follows_graph_of_the_running_example(running):
    graph = mining.directly_follows(running)
    # Read off the six traces (e.g. case 1: register → examine thoroughly → check ticket → decide → reject).
    assert graph.counts() == {
        ("check ticket", "decide"): 6,
        ("examine casually", "check ticket"): 4,
        ("decide", "pay compensation"): 3,
        ("decide", "reinitiate request"): 3,
        ("decide", "reject request"): 3,
        ("register request", "examine casually"): 3,
        ("check ticket", "examine casually"): 2,
        ("examine casually", "decide"): 2,
        ("examine thoroughly", "check ticket"): 2,
        ("register request", "check ticket"): 2,
        ("check ticket", "examine thoroughly"): 1,
        ("examine thoroughly", "decide"): 1,
        ("register request", "examine thoroughly"): 1,
        ("reinitiate request", "check ticket"): 1,
        ("reinitiate request", "examine casually"): 1,
        ("reinitiate request", "examine thoroughly"): 1,
    }
    assert graph.start == {"register request": 6}
    assert graph.end == {"pay compensation": 3, "reject request": 3}
    assert graph.activities["check ticket"] == 9 and sum(graph.activities.values()) == 42
    edges = {(e.source, e.target): e for e in graph.edges}
    # register → examine casually: cases 3 (34 min), 5 (25 h 14 min) and 6 (64 min).
    casual = edges[("register request", "examine casually")]
    assert casual.mean == pytest.approx((34 + 1514 + 64) * 60 / 3)
    assert casual.median == pytest.approx(64 * 60)
    # reinitiate → examine thoroughly: case 3 only, 11:18 → 12:06.
    assert edges[("reinitiate request", "examine thoroughly")].mean == pytest.approx(48 * 60)
    assert mining.bottlenecks(graph, top=1)[0].total == max(e.count * e.mean for e in graph.edges)


def test_variants_overview_and_rework(running):
    found = mining.variants(running)
    # Every case of the running example takes its own path (cases 2 and 6 differ in the order of
    # "check ticket" and "examine casually").
    assert len(found) == 6 and {v.count for v in found} == {1}
    assert all(v.share == pytest.approx(1 / 6) for v in found)
    longest = max(found, key=lambda v: len(v.activities))
    assert len(longest.activities) == 13 and longest.activities.count("reinitiate request") == 2
    overview = mining.overview(running)
    assert (overview.cases, overview.events, overview.activities) == (6, 42, 8)
    # Case 1 runs from 12-30 10:02 to 01-07 13:24 (8 days 3 h 22 min).
    durations = {
        case: last - first
        for case, first, last in running.execute(
            "SELECT case_id, epoch(MIN(ts)), epoch(MAX(ts)) FROM events GROUP BY case_id"
        ).fetchall()
    }
    assert durations["1"] == pytest.approx(8 * 86400 + 3 * HOUR + 22 * 60)
    assert overview.mean_duration == pytest.approx(sum(durations.values()) / 6)
    rework = {r.activity: r for r in mining.rework(running)}
    # Case 3 decides twice, case 5 three times: 3 repeats in 2 of the 6 cases that decide.
    assert (rework["decide"].cases, rework["decide"].repeats) == (2, 3)
    assert rework["decide"].share == pytest.approx(2 / 6)
    assert "register request" not in rework


def test_hand_offs_between_departments(tmp_path):
    csv = tmp_path / "handoff.csv"
    csv.write_text(
        "case,activity,time,department\n"
        "A,受理,2026-11-02 09:00:00,xzspj\n"
        "A,审查,2026-11-02 11:00:00,scjgj\n"  # 2 h between departments
        "A,决定,2026-11-02 12:00:00,scjgj\n"  # 1 h within one
        "A,出件,2026-11-02 15:00:00,xzspj\n"  # 3 h between departments
        "B,受理,2026-11-03 09:00:00,xzspj\n"
        "B,出件,2026-11-03 10:00:00,xzspj\n",
        encoding="utf-8",
    )
    eventlog.import_table(
        csv,
        tmp_path / "h.parquet",
        {"case_id": "case", "activity": "activity", "ts": "time", "grp": "department"},
    )
    con = eventlog.connect()
    eventlog.load(con, tmp_path / "h.parquet")
    handoffs = mining.handoffs(con)
    assert handoffs.count == 2 and handoffs.total == 5 * HOUR
    assert handoffs.cycle == 7 * HOUR  # A 6 h + B 1 h
    assert handoffs.share == pytest.approx(5 / 7)
    assert {(p["from"], p["to"]) for p in handoffs.pairs} == {("xzspj", "scjgj"), ("scjgj", "xzspj")}


def test_gzip_csv_and_guessed_columns_read_the_same_log(tmp_path):
    plain = eventlog.import_xes(RUNNING, tmp_path / "a.parquet")
    packed = tmp_path / "running.xes.gz"
    packed.write_bytes(gzip.compress(RUNNING.read_bytes()))
    assert eventlog.import_xes(packed, tmp_path / "b.parquet").events == plain.events == 42
    receipt = eventlog.import_table(LOGS / "receipt.csv", tmp_path / "r.parquet")
    assert (receipt.events, receipt.cases, receipt.activities) == (8577, 1434, 27)
    assert receipt.columns["case_id"] == "case:concept:name" and receipt.columns["grp"] == "org:group"


def test_an_exported_log_reads_back_to_the_same_process(tmp_path, running):
    eventlog.import_xes(RUNNING, tmp_path / "src.parquet")
    text = io.StringIO()
    assert eventlog.export_xes(tmp_path / "src.parquet", text) == 42
    (tmp_path / "back.xes").write_text(text.getvalue(), encoding="utf-8")
    eventlog.import_xes(tmp_path / "back.xes", tmp_path / "back.parquet")
    con = eventlog.connect()
    eventlog.load(con, tmp_path / "back.parquet")
    assert mining.directly_follows(con).counts() == mining.directly_follows(running).counts()
    ocel = json.loads(eventlog.ocel_json(tmp_path / "src.parquet"))
    assert len(ocel["events"]) == 42 and len([o for o in ocel["objects"] if o["type"] == "case"]) == 6
    first = ocel["events"][0]
    assert first["relationships"][0]["qualifier"] == "case" and first["time"].endswith("Z")


def test_the_value_stream_splits_hand_overs_into_work_and_waiting(tmp_path):
    csv = tmp_path / "vs.csv"
    csv.write_text(
        "case,activity,time\n"
        "A,受理,2026-11-02 09:00:00\n"
        "A,审查,2026-11-02 11:00:00\n"  # 2 h: 30 min work, 90 min waiting
        "A,决定,2026-11-02 11:10:00\n",  # 10 min: all work (under 30 min)
        encoding="utf-8",
    )
    eventlog.import_table(
        csv, tmp_path / "vs.parquet", {"case_id": "case", "activity": "activity", "ts": "time"}
    )
    con = eventlog.connect()
    eventlog.load(con, tmp_path / "vs.parquet")
    stream = mining.value_stream(con, {"审查"}, {"审查": 30, "决定": 30})
    assert stream.cycle == pytest.approx(130 * 60)
    assert (stream.value_adding_work, stream.other_work, stream.waiting) == (30 * 60, 10 * 60, 90 * 60)
    assert stream.non_value_adding_share == pytest.approx(100 / 130)


def test_unmapped_columns_are_kept_as_attributes(tmp_path):
    import json as _json

    eventlog.import_table(LOGS / "receipt.csv", tmp_path / "r.parquet")
    con = eventlog.connect()
    (attrs,) = con.execute(
        f"SELECT attrs FROM read_parquet('{tmp_path / 'r.parquet'}') "
        "WHERE case_id = 'case-10011' ORDER BY pos LIMIT 1"
    ).fetchall()[0]
    kept = _json.loads(attrs)
    assert kept["case:deadline"] == "2011-12-06 13:41:31.788000+01:00" and "concept:instance" in kept
    assert "concept:name" not in kept  # mapped columns are not repeated
