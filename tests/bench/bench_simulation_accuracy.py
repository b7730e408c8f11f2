"""simulation_accuracy: how well a model fitted on 80 % of receipt.csv predicts the last 20 %.

receipt.csv's cases are sorted by their first event; the first 80 % fit the as-is model
(insight.simulation.fit), and the period of the last 20 % — from its first case's arrival to the
log's end — is simulated: as many cases as the period holds (as Simod's own evaluation does),
arriving by the fitted weekly profile from that first arrival, events after the log's end not
observed (the real cases of that period are cut there too). Simulated and
held-out events are compared with log-distance-measures (the maintained library for these
metrics), each event's start set to its end timestamp on both sides (the log has completion
times only):

- 2-gram distance (n_gram_distribution_distance, n=2, normalised),
- cycle-time distribution distance (cycle_time_distribution_distance, 1-hour bins),
- the error of the mean cycle time.

Reference (issue 5, measured with Simod 5.2.1 on the same kind of split): 2-gram 0.135,
cycle-time distance 48.2, mean cycle time 79.3 h simulated vs 36.1 h real (+120 %). Target:
better than Simod on all three. The figures are means over REPLICATIONS simulated logs; the BENCH
figure is the worst of our three ratios to Simod's (below 1: better on all three).
"""

import datetime as dt
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The shared data (TONGBAN_DATA_DIR, as settings.DATA_DIR reads it; beside the checkout by default).
DATA = Path(os.environ.get("TONGBAN_DATA_DIR") or ROOT.parent / "shared" / "data")
LOG = DATA / "eventlogs" / "receipt.csv"
SIMOD = {"two_gram": 0.135, "cycle_time": 48.2, "mean_error": abs(79.3 - 36.1) / 36.1}
REPLICATIONS = 5


def main() -> int:
    import os
    import secrets
    import tempfile

    os.environ.setdefault("TONGBAN_SECRET_KEY", secrets.token_hex(32))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django

    django.setup()  # settings only; no database is touched

    from rich.console import Console
    from rich.table import Table

    from tests.bench import harness
    from tongban.insight import eventlog, simulation

    console = Console()
    try:
        import pandas as pd
        from log_distance_measures.config import EventLogIDs
        from log_distance_measures.cycle_time_distribution import cycle_time_distribution_distance
        from log_distance_measures.n_gram_distribution import n_gram_distribution_distance
    except ImportError:
        console.print("[red]log-distance-measures is not installed: `make bench` installs the bench extra.")
        harness.bench_line("simulation_accuracy", 0.0, "x_simod_worst", None, "<1", False)
        return 1

    work = Path(tempfile.mkdtemp(prefix="tongban-bench-sim-"))
    parquet = work / "receipt.parquet"
    eventlog.import_table(LOG, parquet)
    con = eventlog.connect()
    source = f"read_parquet('{parquet}')"
    firsts = con.execute(
        f"SELECT case_no, MIN(ts) AS first FROM {source} GROUP BY case_no ORDER BY first, case_no"
    ).fetchall()
    cut = int(len(firsts) * 0.8)
    train = [c for c, _f in firsts[:cut]]
    test = [c for c, _f in firsts[cut:]]
    # Drift: how much recent history to learn times and arrivals from is chosen by backtesting
    # inside the 80 % alone (simulation.choose_window); routing is learnt from all of it.
    model, chosen = simulation.forecast_model(con, source, firsts[:cut])
    start = firsts[cut][1]
    last_arrival = firsts[-1][1]
    log_end = con.execute(f"SELECT MAX(ts) FROM {source}").fetchall()[0][0]
    real = con.execute(
        f"SELECT case_id, CAST(activity AS VARCHAR), ts FROM {source} WHERE case_no IN (SELECT UNNEST(?))",
        [test],
    ).df()
    real.columns = ["case", "activity", "end"]
    real["start"] = real["end"]
    ids = EventLogIDs(case="case", activity="activity", start_time="start", end_time="end")

    def cycle_mean(frame) -> float:
        grouped = frame.groupby("case")
        return ((grouped["end"].max() - grouped["start"].min()).dt.total_seconds() / 3600).mean()

    figures = {"two_gram": [], "cycle_time": [], "mean_error": [], "cases": [], "mean_hours": []}
    real_mean = cycle_mean(real)
    for r in range(REPLICATIONS):
        events = simulation.forecast(model, start, last_arrival, log_end, seed=r, cases=len(test))
        seen = [(f"s{c}", a, at) for c, a, at in events]
        simulated = pd.DataFrame(seen, columns=["case", "activity", "end"])
        simulated["start"] = simulated["end"]
        figures["two_gram"].append(n_gram_distribution_distance(real, ids, simulated, ids, n=2))
        figures["cycle_time"].append(
            cycle_time_distribution_distance(real, ids, simulated, ids, bin_size=dt.timedelta(hours=1))
        )
        sim_mean = cycle_mean(simulated)
        figures["mean_error"].append(abs(sim_mean - real_mean) / real_mean)
        figures["cases"].append(simulated["case"].nunique())
        figures["mean_hours"].append(sim_mean)
    ours = {k: statistics.fmean(v) for k, v in figures.items()}
    table = Table(
        title=f"simulation_accuracy: receipt.csv, history {len(train)} cases, "
        f"predict {len(test)} ({REPLICATIONS} runs)"
    )
    for col in ("measure", "tongban", "Simod 5.2.1 (reference)", "ratio"):
        table.add_column(col, justify="right")
    ratios = {}
    for key, label in (
        ("two_gram", "2-gram distance"),
        ("cycle_time", "cycle-time distance (1 h bins)"),
        ("mean_error", "mean cycle time error"),
    ):
        ratios[key] = ours[key] / SIMOD[key]
        shown = (lambda v: f"{v:.1%}") if key == "mean_error" else (lambda v: f"{v:.3f}")
        table.add_row(label, shown(ours[key]), shown(SIMOD[key]), f"{ratios[key]:.2f}")
    console.print(table)
    windows = chosen["windows"]
    console.print(
        "windows of recent cases chosen by backtest inside the training 80 %: "
        f"times and arrivals {windows['timing']:.0%}, routing {windows['routing']:.0%}; "
        "backtest (cycle-time error, routing error) "
        + ", ".join(f"{w:.0%}: ({c:.0%}, {r:.2f})" for w, (c, r) in chosen["backtest"].items())
    )
    console.print(
        f"mean cycle time: real {real_mean:.1f} h, simulated {ours['mean_hours']:.1f} h; "
        f"simulated cases {ours['cases']:.0f} (real {len(test)})"
    )
    worst = max(ratios.values())
    passed = worst < 1.0
    harness.bench_line("simulation_accuracy", worst, "x_simod_worst", worst, "<1(all three)", passed)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
