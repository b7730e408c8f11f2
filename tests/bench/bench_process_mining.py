"""process_mining: directly-follows graph, performance DFG and variants on 5.2 million events,
against PM4Py on the same in-memory log, in the same run.

The log is bpic2012 (../shared/data/eventlogs/bpic2012.xes.gz: 13,087 cases, 262,200 events)
replicated ×20 with the case ids suffixed (5,244,000 events, 261,740 cases), built once from our
import of the XES file. Ours: insight.mining on a DuckDB in-memory table (the product's path).
PM4Py (an optional extra, never used by the product): discover_dfg, discover_performance_dfg and
get_variants on a pandas DataFrame of the same events, already formatted (format_dataframe is not
timed). The two must agree: the same DFG edges with the same counts, the same start and end
activities, the same number of variants; the figure is PM4Py's time over ours.

Target (issue 5): at least 10× faster than PM4Py. Peak memory of this process is reported.
"""

import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The shared data (TONGBAN_DATA_DIR, as settings.DATA_DIR reads it; beside the checkout by default).
DATA = Path(os.environ.get("TONGBAN_DATA_DIR") or ROOT.parent / "shared" / "data")
LOG = DATA / "eventlogs" / "bpic2012.xes.gz"
COPIES = 20
TARGET = 10.0
ROUNDS = 3


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    sys.path.insert(0, str(ROOT / "src"))
    from rich.console import Console
    from rich.table import Table

    from tests.bench import harness
    from tongban.insight import eventlog, mining

    console = Console()
    try:
        import pm4py
    except ImportError:
        console.print(
            "[red]PM4Py is not installed: `make bench` installs the bench extra (pip install -e '.[bench]')."
        )
        harness.bench_line("process_mining", 0.0, "x_faster", None, f">={TARGET:.0f}x", False)
        return 1
    work = Path(tempfile.mkdtemp(prefix="tongban-bench-mining-"))
    with console.status("process_mining: importing bpic2012.xes.gz"):
        started = time.perf_counter()
        summary = eventlog.import_xes(LOG, work / "bpic2012.parquet")
        parse = time.perf_counter() - started
    console.print(f"imported {summary.events:,} events, {summary.cases:,} cases in {parse:.1f} s (XES parse)")
    con = eventlog.connect()
    parquet = work / "bpic2012.parquet"
    base = f"read_parquet('{parquet}')"
    cases, rows = con.execute(f"SELECT MAX(case_no), MAX(pos) FROM {base}").fetchall()[0]
    # Copy k keeps its cases' events consecutive and in order: case_no and pos shift by whole copies.
    eventlog.encode(
        con,
        f"""(SELECT case_id || '#' || k AS case_id, activity, ts, start_ts, resource, grp, channel, lifecycle,
                    seq + k * {rows} AS seq, CAST(case_no + k * {cases} AS INTEGER) AS case_no,
                    pos + k * {rows} AS pos
             FROM {base}, range({COPIES}) r(k))""",
    )
    events = con.execute("SELECT COUNT(*) FROM events").fetchall()[0][0]
    console.print(f"replicated ×{COPIES}: {events:,} events in an in-memory DuckDB table")

    ours_times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        graph = mining.directly_follows(con)
        found = mining.variants(con)
        ours_times.append(time.perf_counter() - started)
    ours = statistics.median(ours_times)
    console.print(
        f"ours: DFG + performance DFG + variants {ours:.2f} s (median of {ROUNDS}); "
        f"peak RSS {_peak_mb():,.0f} MB"
    )

    with console.status("process_mining: the same events as a pandas DataFrame for PM4Py"):
        frame = con.execute(
            'SELECT case_id AS "case:concept:name", activity AS "concept:name", '
            'ts AS "time:timestamp", seq FROM events ORDER BY seq'
        ).df()
        frame = pm4py.format_dataframe(
            frame, case_id="case:concept:name", activity_key="concept:name", timestamp_key="time:timestamp"
        )
    started = time.perf_counter()
    dfg, start, end = pm4py.discover_dfg(frame)
    t_dfg = time.perf_counter() - started
    started = time.perf_counter()
    performance, _s, _e = pm4py.discover_performance_dfg(frame)
    t_perf = time.perf_counter() - started
    started = time.perf_counter()
    pm_variants = pm4py.get_variants(frame)
    t_var = time.perf_counter() - started
    theirs = t_dfg + t_perf + t_var

    same = (
        dfg == graph.counts()
        and start == graph.start
        and end == graph.end
        and len(pm_variants) == len(found)
        and set(performance) == set(graph.counts())
    )
    table = Table(title=f"process_mining: bpic2012 ×{COPIES}, {events:,} events")
    for col in ("", "DFG", "performance DFG", "variants", "total (s)", "edges", "variants"):
        table.add_column(col, justify="right")
    table.add_row(
        "PM4Py (reference)",
        f"{t_dfg:.2f}",
        f"{t_perf:.2f}",
        f"{t_var:.2f}",
        f"{theirs:.2f}",
        str(len(dfg)),
        str(len(pm_variants)),
    )
    table.add_row("tongban (DuckDB)", "—", "—", "—", f"{ours:.2f}", str(len(graph.edges)), str(len(found)))
    console.print(table)
    console.print(f"results identical: {same}; peak RSS {_peak_mb():,.0f} MB (both in this process)")
    speedup = theirs / ours
    passed = same and speedup >= TARGET
    harness.bench_line(
        "process_mining", speedup, "x_faster_than_pm4py", 1 / speedup, f">={TARGET:.0f}x", passed
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
