"""programme_montecarlo: the schedule risk of a programme by Monte Carlo, on one core.

A generated programme of 500 tasks (each after up to three earlier ones, lags of 0–2 working days,
triangular three-point estimates) and 50 risk events (probability 5–40 %, delay 2–15 working days,
each on 1–8 tasks) is simulated 10,000 times: durations and risk occurrences drawn, forward and
backward pass over all runs at once, P50/P80/P90 and every task's criticality index. The process
is pinned to one CPU and BLAS to one thread. Timed: the median of 5 seeded simulations.

Reference, in the same run: the pure-Python critical path (programme.schedule.cpm) run once per
run on 200 runs of the same draws (risks off), checked to give the same finishes; its time is
extrapolated to 10,000 runs for the ratio.

Target (issue 15): 10,000 runs × 500 tasks × 50 risks in under 2 s on one core.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

TASKS, RISKS, RUNS, ROUNDS = 500, 50, 10_000, 5
TARGET_S = 2.0
REFERENCE_RUNS = 200


def network(seed: int = 2026):
    from tongban.programme import montecarlo as mc

    rng = random.Random(seed)
    tasks = []
    for i in range(TASKS):
        preds = ()
        if i:
            chosen = rng.sample(range(max(0, i - 30), i), k=min(i, rng.randint(1, 3)))
            preds = tuple((f"T{p}", rng.choice((0, 0, 1, 2))) for p in chosen)
        likely = rng.randint(2, 20)
        tasks.append(
            mc.TaskEstimate(f"T{i}", likely * 0.7, likely, likely * rng.uniform(1.2, 2.5), 0.0, preds)
        )
    risks = [
        mc.RiskEvent(
            f"R{j}",
            rng.uniform(0.05, 0.4),
            rng.randint(2, 15),
            tuple(f"T{t}" for t in rng.sample(range(TASKS), k=rng.randint(1, 8))),
        )
        for j in range(RISKS)
    ]
    return tasks, risks


def main() -> int:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    from tests.bench import harness
    from tongban.programme import montecarlo as mc
    from tongban.programme import schedule

    console = Console()
    tasks, risks = network()
    mc.simulate(tasks, risks, runs=500, seed=0)  # warm-up
    times, result = [], None
    for seed in range(ROUNDS):
        t0 = time.perf_counter()
        result = mc.simulate(tasks, risks, runs=RUNS, seed=seed)
        times.append(time.perf_counter() - t0)
    figure = statistics.median(times)

    # reference: the scalar CPM, run by run, on the same draws (no risks, so the draws are the durations)
    check = mc.simulate(tasks, (), runs=REFERENCE_RUNS, seed=99)
    durations = mc._durations(np.random.default_rng(99), tasks, REFERENCE_RUNS, "triangular")
    t0 = time.perf_counter()
    finishes = []
    for run in range(REFERENCE_RUNS):
        nodes = {
            t.key: schedule.Node(t.key, float(durations[i, run]), 0, list(t.preds))
            for i, t in enumerate(tasks)
        }
        timings = schedule.cpm(nodes)
        finishes.append(max(v.ef for v in timings.values()))
    reference = (time.perf_counter() - t0) * RUNS / REFERENCE_RUNS
    agree = bool(np.allclose(np.array(finishes), check.finishes))

    table = Table(title=f"programme_montecarlo: {RUNS:,} runs × {TASKS} tasks × {RISKS} risks, one core")
    for col in ("", "seconds"):
        table.add_column(col, justify="right")
    table.add_row("numpy, all runs at once (median of 5)", f"{figure:.3f}")
    table.add_row(f"scalar CPM per run (extrapolated from {REFERENCE_RUNS})", f"{reference:.3f}")
    console.print(table)
    critical = sorted(result.criticality.items(), key=lambda kv: -kv[1])[:3]
    console.print(
        f"finishes agree with the scalar CPM: {agree}; P50 {result.percentile(50):.1f}, "
        f"P80 {result.percentile(80):.1f}, P90 {result.percentile(90):.1f} working days; "
        f"most critical {critical}"
    )
    passed = agree and figure < TARGET_S
    harness.bench_line(
        "programme_montecarlo", figure * 1000, "ms_10k_runs", figure / reference, f"<{TARGET_S:.0f}s", passed
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
