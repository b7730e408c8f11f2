"""Our mining agrees with PM4Py on a real government log (receipt.csv). PM4Py is an optional
extra (`make bench` installs it); without it this test is skipped, never faked."""

from pathlib import Path

import pytest

from tests.conftest import shared_data_dir
from tongban.insight import eventlog, mining

pm4py = pytest.importorskip("pm4py")
pandas = pytest.importorskip("pandas")


def test_dfg_start_end_and_variants_equal_pm4py_on_receipt(tmp_path):
    source = Path(shared_data_dir()) / "eventlogs" / "receipt.csv"
    eventlog.import_table(source, tmp_path / "receipt.parquet")
    con = eventlog.connect()
    eventlog.load(con, tmp_path / "receipt.parquet")
    graph = mining.directly_follows(con)
    found = mining.variants(con)
    frame = pm4py.format_dataframe(
        pandas.read_csv(source),
        case_id="case:concept:name",
        activity_key="concept:name",
        timestamp_key="time:timestamp",
    )
    dfg, start, end = pm4py.discover_dfg(frame)
    performance, _s, _e = pm4py.discover_performance_dfg(frame)
    assert dfg == graph.counts() and start == graph.start and end == graph.end
    for edge in graph.edges:
        theirs = performance[(edge.source, edge.target)]
        assert edge.mean == pytest.approx(float(theirs["mean"]), rel=1e-6)
        assert edge.median == pytest.approx(float(theirs["median"]), rel=1e-6)
    variants = pm4py.get_variants(frame)
    assert {tuple(k): (len(v) if isinstance(v, list) else v) for k, v in variants.items()} == {
        v.activities: v.count for v in found
    }


def test_an_interval_log_is_ordered_and_timed_as_pm4py_orders_and_times_it(tmp_path):
    """With start times PM4Py's directly-follows graph follows start-time order and its flow time
    runs from a completion to the next start; ours the same (our variants follow the same order;
    PM4Py's get_variants still sorts by completion time, see docs/insight.md)."""
    from tests.insight.test_eventlog_import import INTERVAL_CSV

    source = tmp_path / "interval.csv"
    source.write_text(INTERVAL_CSV, encoding="utf-8")
    mapping = {"case_id": "case", "activity": "activity", "ts": "end", "start_ts": "start"}
    eventlog.import_table(source, tmp_path / "interval.parquet", mapping)
    con = eventlog.connect()
    eventlog.load(con, tmp_path / "interval.parquet")
    graph = mining.directly_follows(con)
    frame = pandas.read_csv(source)
    frame["start_timestamp"] = pandas.to_datetime(frame["start"], utc=True)
    frame = pm4py.format_dataframe(frame, case_id="case", activity_key="activity", timestamp_key="end")
    dfg, start, end = pm4py.discover_dfg(frame)
    performance, _s, _e = pm4py.discover_performance_dfg(frame)
    assert dfg == graph.counts() and start == graph.start and end == graph.end
    for edge in graph.edges:
        assert edge.mean == pytest.approx(float(performance[(edge.source, edge.target)]["mean"]), rel=1e-6)
