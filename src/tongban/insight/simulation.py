"""Simulating a process fitted from its event log (流程再造: what a redesign would change), with SimPy.

Fitted from the log (insight.eventlog's table), in SQL:
- arrivals: cases started per weekday and hour, as rates of a non-homogeneous Poisson process
  over the log's span (so Monday mornings are busier than Sunday nights);
- routing: the first step and, after each step, the next one or the end, with the frequencies seen
  (a first-order Markov chain; its expected visits per case equal the log's);
- timing: for each hand-over a → b, the times from a's completion to b's completion seen in the log
  (resampled; the log has completion times only, so this is waiting and working together).

A run replays the log's span: cases arrive, walk the routes, wait the sampled times. Replications
with different seeds give means with 95 % confidence intervals. `validate` fits on a log, simulates
it and reports the errors the issue asks about: mean case duration and activity frequencies.
"""

# ruff: noqa: S608  (the table name is our own; no input value becomes SQL text)

from __future__ import annotations

import datetime as dt
import itertools
import math
import statistics
from dataclasses import dataclass, field

import duckdb
import numpy as np
import simpy

WEEK_SLOTS = 7 * 24  # weekday × hour


CANDIDATES = ("expon", "lognorm", "gamma", "weibull_min")
MIN_FIT_SAMPLES = 30  # fewer hand-overs than this are resampled as seen
MIN_SAMPLE_CASES = 30  # fewer cases than this: a what-if illustrates, it does not forecast
MAX_KS = 0.08  # a fitted distribution is used only when it follows the data this closely (KS statistic)


@dataclass(frozen=True)
class Fit:
    """The distribution a hand-over's times are drawn from: a fitted one where it follows the data
    (Kolmogorov–Smirnov statistic at most MAX_KS), else the times seen, resampled."""

    name: str  # expon | lognorm | gamma | weibull_min | empirical
    params: tuple = ()
    ks: float | None = None


def fit_distribution(seen: np.ndarray) -> Fit:
    """Maximum-likelihood fits of the candidate distributions (located at 0), the best by KS."""
    from scipy import stats

    positive = seen[seen > 0]
    if len(seen) < MIN_FIT_SAMPLES or len(positive) < 0.95 * len(seen):
        return Fit("empirical")
    best = Fit("empirical")
    for name in CANDIDATES:
        family = getattr(stats, name)
        try:
            params = family.fit(positive, floc=0)
        except (ValueError, RuntimeError, FloatingPointError):
            continue
        ks = float(stats.kstest(positive, name, args=params).statistic)
        if ks <= MAX_KS and (best.ks is None or ks < best.ks):
            best = Fit(name, tuple(float(p) for p in params), ks)
    return best


@dataclass
class Model:
    start: dict[str, float]  # first activity → probability
    routes: dict[str, list[tuple[str | None, float]]]  # activity → [(next or None for the end, probability)]
    delays: dict[tuple[str, str], np.ndarray]  # hand-over → seconds seen
    arrival_rates: np.ndarray  # cases per second in each of the week's 168 hours
    span: float  # seconds the log covers (first arrival to last arrival)
    cases: int
    activity_counts: dict[str, int] = field(default_factory=dict)
    mean_duration: float = 0.0
    fits: dict[tuple[str, str], Fit] = field(default_factory=dict)

    def expected_cases(self) -> float:
        return self.cases


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def fit(con: duckdb.DuckDBPyConnection, table: str = "events", *, distributions: bool = True) -> Model:
    """The as-is model of the log in `table` (loaded with eventlog.load). Without `distributions`
    the hand-over times are kept as seen, unfitted: enough for estimates that read only them."""
    firsts = _rows(
        con,
        f"""
        SELECT CAST(ARG_MIN(activity, pos) AS VARCHAR), CAST(ARG_MAX(activity, pos) AS VARCHAR),
               MIN(ts), epoch(MAX(ts)) - epoch(MIN(ts))
        FROM {table} GROUP BY case_no
        """,
    )
    cases = len(firsts)
    start_counts: dict[str, int] = {}
    end_counts: dict[str, int] = {}
    for first, last, _arrived, _duration in firsts:
        start_counts[first] = start_counts.get(first, 0) + 1
        end_counts[last] = end_counts.get(last, 0) + 1
    steps = _rows(
        con,
        f"""
        WITH s AS (
            SELECT case_no, CAST(activity AS VARCHAR) AS a, CAST(LEAD(activity) OVER w AS VARCHAR) AS b,
                   LEAD(case_no) OVER w AS next_case, epoch(LEAD(ts) OVER w) - epoch(ts) AS d
            FROM {table} WINDOW w AS (ORDER BY pos)
        )
        SELECT a, b, LIST(d) FROM s WHERE next_case = case_no GROUP BY a, b
        """,
    )
    out_counts: dict[str, dict[str | None, int]] = {}
    delays = {}
    for a, b, ds in steps:
        out_counts.setdefault(a, {})[b] = len(ds)
        delays[(a, b)] = np.sort(np.asarray(ds, dtype=float))  # sorted: a seed gives the same run
    for activity, n in end_counts.items():
        out_counts.setdefault(activity, {})[None] = n
    routes = {}
    for activity, nexts in out_counts.items():
        total = sum(nexts.values())
        routes[activity] = [
            (b, n / total) for b, n in sorted(nexts.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
        ]
    arrivals = [a for _f, _l, a, _d in firsts]
    first_at, last_at = min(arrivals), max(arrivals)
    span = max((last_at - first_at).total_seconds(), 1.0)
    slots = np.zeros(WEEK_SLOTS)
    for at in arrivals:
        slots[at.weekday() * 24 + at.hour] += 1
    weeks = max(span / (7 * 86400), 1 / 7)
    rates = slots / (weeks * 3600.0)
    counts = dict(_rows(con, f"SELECT CAST(activity AS VARCHAR), COUNT(*) FROM {table} GROUP BY activity"))
    mean_duration = statistics.fmean(d for *_x, d in firsts) if firsts else 0.0
    fits = {edge: fit_distribution(seen) for edge, seen in delays.items()} if distributions else {}
    return Model(
        start={a: n / cases for a, n in sorted(start_counts.items())},
        routes=routes,
        delays=delays,
        arrival_rates=rates,
        span=span,
        cases=cases,
        activity_counts=counts,
        mean_duration=mean_duration,
        fits=fits,
    )


@dataclass
class Changes:
    """A redesign to try (流程再造). Empty: the process as it is.

    parallel  pairs (X, Y): where Y directly follows X, the two run side by side (the case waits for
              the longer, not the sum)
    remove    steps taken out: their time goes and the case goes on from where they led
    merge     pairs (X, Y): where Y directly follows X, one person does both at once — the hand-over
              between them (its waiting) goes, Y's own work stays
    shortcut  (step, share): that share of cases is finished once the step is done — 告知承诺 or
              容缺 approving at acceptance
    volume    arrivals × volume
    staff     step → workers: the step's work then waits for a free worker of its pool
    hours     (from, to) o'clock: pooled work only on Monday–Friday within these hours (the staff's
              working time; public holidays are not modelled inside a run)
    work      step → minutes of work in a step (default: the model's estimate); what staff and the
              cost per case count
    """

    parallel: tuple[tuple[str, str], ...] = ()
    remove: frozenset[str] = frozenset()
    merge: tuple[tuple[str, str], ...] = ()
    shortcut: tuple[str, float] | None = None
    volume: float = 1.0
    staff: dict[str, int] = field(default_factory=dict)
    work: dict[str, float] = field(default_factory=dict)
    hours: tuple[float, float] | None = None
    tz_offset: float = 0.0  # seconds the site's clock is ahead of UTC (the log's times are UTC)


DEFAULT_WORK_MINUTES = 20.0  # a step's own work when nothing better is known


def work_minutes(model: Model) -> dict[str, float]:
    """Each step's work in minutes, estimated from the log: the quickest quarter of the hand-overs
    into it (p25), capped at an hour — the rest of a hand-over is waiting."""
    found: dict[str, list[float]] = {}
    for (_a, b), seen in model.delays.items():
        found.setdefault(b, []).append(float(np.percentile(seen, 25)) / 60)
    return {b: min(60.0, max(1.0, statistics.median(v))) for b, v in found.items()}


@dataclass
class RunResult:
    cases: int  # cases that finished within the run
    durations: list[float]
    activity_counts: dict[str, int]
    work_minutes: float = 0.0  # minutes of staff work over all cases
    busy: dict[str, float] = field(default_factory=dict)  # step → minutes its pool was busy
    horizon: float = 0.0  # seconds from the first arrival to the last completion

    @property
    def mean_duration(self) -> float:
        return statistics.fmean(self.durations) if self.durations else 0.0


def _choose(rng: np.random.Generator, options: list[tuple[object, float]]):
    roll, acc = rng.random(), 0.0
    for value, p in options:
        acc += p
        if roll < acc:
            return value
    return options[-1][0]


def simulate(
    model: Model,
    *,
    seed: int = 0,
    cases: int | None = None,
    max_steps: int = 500,
    changes: Changes | None = None,
    week_offset: float = 0.0,
    horizon: float | None = None,
    record: list | None = None,
) -> RunResult:
    """One run over the log's span: arrivals by the weekly profile (or exactly `cases` of them),
    each case walking the routes, with `changes` applied. Cases still running at the end are
    followed to completion, so every arrival counts (as in the log, whose cases are complete).

    `week_offset` places time 0 in the week (seconds after Monday 00:00) so arrivals follow the
    weekly profile from a real start; `horizon` ends arrivals after that many seconds (default: the
    log's span); `record` collects (case, activity, seconds) for every completed step."""
    changes = changes or Changes()
    horizon = model.span if horizon is None else horizon
    serial = [0]
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    durations: list[float] = []
    counts: dict[str, int] = {}
    start_options = sorted(model.start.items())
    rates = model.arrival_rates * max(changes.volume, 0.0)
    peak = float(rates.max()) or 1e-9
    parallel = dict(changes.parallel)
    merged = set(changes.merge)
    estimated = work_minutes(model)
    minutes_of = {a: changes.work.get(a, estimated.get(a, DEFAULT_WORK_MINUTES)) for a in model.routes}
    pools = {a: simpy.Resource(env, capacity=max(1, int(n))) for a, n in changes.staff.items()}
    busy = dict.fromkeys(pools, 0.0)
    totals = {"work": 0.0}

    families = {}

    def sample(a: str, b: str) -> float:
        fitted = model.fits.get((a, b))
        if fitted is not None and fitted.name != "empirical":
            family = families.get(fitted.name)
            if family is None:
                from scipy import stats

                family = families[fitted.name] = getattr(stats, fitted.name)
            return float(family.rvs(*fitted.params, random_state=rng))
        seen = model.delays[(a, b)]
        return float(seen[rng.integers(len(seen))])

    def step(activity: str, wait: float):
        """The time until `activity` completes: its wait, and its work on a worker of its pool."""
        work = minutes_of.get(activity, DEFAULT_WORK_MINUTES) * 60
        totals["work"] += work / 60
        pool = pools.get(activity)
        if pool is None:
            yield env.timeout(wait)
            return
        yield env.timeout(max(0.0, wait - work))
        with pool.request() as turn:
            yield turn
            if changes.hours is None:
                yield env.timeout(work)
            else:
                yield from working_time(work)
            busy[activity] += work / 60

    def working_time(seconds: float):
        """Spend `seconds` of work inside working hours, Monday to Friday (waiting out the rest)."""
        start_hour, end_hour = changes.hours
        left = seconds
        while left > 1e-6:
            at = (env.now + week_offset + changes.tz_offset) % (7 * 86400)
            day, clock = int(at // 86400), at % 86400
            opens, closes = start_hour * 3600, end_hour * 3600
            if day >= 5:  # Saturday or Sunday: to Monday's opening
                yield env.timeout((7 - day) * 86400 - clock + opens)
                continue
            if clock >= closes:  # after hours: to the next working day's opening
                yield env.timeout((3 if day == 4 else 1) * 86400 - clock + opens)
                continue
            if clock < opens:
                yield env.timeout(opens - clock)
                continue
            chunk = min(left, closes - clock)
            yield env.timeout(chunk)
            left -= chunk

    def note(case_no: int, activity: str) -> None:
        if record is not None:
            record.append((case_no, activity, env.now))

    def case():
        serial[0] += 1
        case_no = serial[0]
        arrived = env.now
        activity = _choose(rng, start_options)
        counts[activity] = counts.get(activity, 0) + 1
        note(case_no, activity)
        totals["work"] += minutes_of.get(activity, DEFAULT_WORK_MINUTES)
        for _step in range(max_steps):
            if changes.shortcut and activity == changes.shortcut[0] and rng.random() < changes.shortcut[1]:
                break
            following = _choose(rng, model.routes.get(activity, [(None, 1.0)]))
            if following is None:
                break
            wait = sample(activity, following)
            if (activity, following) in merged:
                wait = minutes_of.get(following, DEFAULT_WORK_MINUTES) * 60  # no hand-over: just the work
            if following in changes.remove:
                activity = following  # its time goes; the case carries on from where it led
                continue
            partner = parallel.get(following)
            if partner is not None:
                after = _choose(rng, model.routes.get(following, [(None, 1.0)]))
                if after == partner:
                    # Side by side: the case waits for the longer of the two, then both are done.
                    other = sample(following, partner)
                    totals["work"] += minutes_of.get(following, DEFAULT_WORK_MINUTES)
                    counts[following] = counts.get(following, 0) + 1
                    yield from step(partner, max(wait, other))
                    note(case_no, following)
                    activity = partner
                    counts[activity] = counts.get(activity, 0) + 1
                    note(case_no, activity)
                    continue
                yield from step(following, wait)
                activity = following
                counts[activity] = counts.get(activity, 0) + 1
                note(case_no, activity)
                if after is None:
                    break
                wait = sample(activity, after)
                following = after
                if following in changes.remove:
                    activity = following
                    continue
            yield from step(following, wait)
            activity = following
            counts[activity] = counts.get(activity, 0) + 1
            note(case_no, activity)
        durations.append(env.now - arrived)

    def arrivals():
        made = 0
        while cases is None or made < cases:
            # Thinning: candidate arrivals at the peak rate, kept with rate(t) / peak.
            yield env.timeout(float(rng.exponential(1.0 / peak)))
            if cases is None and env.now > horizon:
                return
            slot = int((env.now + week_offset) // 3600) % WEEK_SLOTS
            if rng.random() * peak <= rates[slot]:
                env.process(case())
                made += 1

    env.process(arrivals())
    env.run()
    return RunResult(len(durations), durations, counts, totals["work"], busy, env.now)


@dataclass
class Scenario:
    """A scenario's figures over replications: (mean, 95 % CI half-width) each."""

    mean_duration: tuple[float, float]
    p90_duration: tuple[float, float]
    on_time_rate: tuple[float, float] | None
    cost_per_case: tuple[float, float]
    utilisation: dict[str, float]  # step → share of its pool's time at work
    run_means: tuple[float, ...] = ()  # each replication's mean cycle time, for paired comparisons


def _summary(values: list[float]) -> tuple[float, float]:
    mean = statistics.fmean(values)
    half = 1.96 * statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return mean, half


def run_scenario(
    model: Model,
    changes: Changes | None = None,
    *,
    replications: int = 20,
    seed: int = 0,
    limit_seconds: float | None = None,
    staff_hour_cost: float = 80.0,
    progress=None,
) -> Scenario:
    """Replicated runs of one scenario, each as many cases as the log (volume changes scale it).
    Seeds are the same for every scenario (common random numbers), so differences are the design's."""
    changes = changes or Changes()
    cases = max(1, round(model.cases * max(changes.volume, 0.0)))
    means, p90s, on_time, costs = [], [], [], []
    used: dict[str, list[float]] = {}
    for r in range(replications):
        run = simulate(model, seed=seed + r, cases=cases, changes=changes)
        means.append(run.mean_duration)
        p90s.append(float(np.percentile(run.durations, 90)) if run.durations else 0.0)
        if limit_seconds:
            on_time.append(sum(d <= limit_seconds for d in run.durations) / max(1, len(run.durations)))
        costs.append(run.work_minutes / 60 * staff_hour_cost / max(1, run.cases))
        for activity, minutes in run.busy.items():
            capacity = changes.staff[activity] * run.horizon / 60
            used.setdefault(activity, []).append(minutes / capacity if capacity else 0.0)
        if progress:
            progress()
    return Scenario(
        mean_duration=_summary(means),
        p90_duration=_summary(p90s),
        on_time_rate=_summary(on_time) if on_time else None,
        cost_per_case=_summary(costs),
        utilisation={a: statistics.fmean(v) for a, v in used.items()},
        run_means=tuple(means),
    )


@dataclass
class Comparison:
    as_is: Scenario
    to_be: Scenario
    replications: int
    sample_cases: int = 0  # cases of the log the model was fitted on

    @property
    def small_sample(self) -> bool:
        """Fewer cases than a fitted distribution needs: the figures illustrate, they do not forecast."""
        return self.sample_cases < MIN_SAMPLE_CASES

    @property
    def saving_uncertain(self) -> bool:
        """The 95 % interval of the cycle-time difference includes zero. The runs are paired (the
        same seeds in both scenarios), so the difference is taken run by run."""
        pairs = list(zip(self.as_is.run_means, self.to_be.run_means, strict=False))
        if len(pairs) < 2:
            return True
        mean, half = _summary([a - b for a, b in pairs])
        return abs(mean) <= half

    @property
    def cycle_time_saving(self) -> float:
        """提速率 predicted: 1 − to-be mean cycle time / as-is."""
        return (
            1 - self.to_be.mean_duration[0] / self.as_is.mean_duration[0]
            if self.as_is.mean_duration[0]
            else 0.0
        )

    @property
    def cost_saving(self) -> float:
        """降本率 predicted: 1 − to-be cost per case / as-is."""
        return (
            1 - self.to_be.cost_per_case[0] / self.as_is.cost_per_case[0]
            if self.as_is.cost_per_case[0]
            else 0.0
        )


def compare(
    model: Model, changes: Changes, *, replications: int = 20, limit_seconds: float | None = None, **kw
):
    """As-is and to-be side by side, on the same random numbers."""
    return Comparison(
        as_is=run_scenario(
            model,
            Changes(),
            replications=replications,
            limit_seconds=limit_seconds,
            **kw,
        ),
        to_be=run_scenario(model, changes, replications=replications, limit_seconds=limit_seconds, **kw),
        replications=replications,
        sample_cases=model.cases,
    )


@dataclass
class Validation:
    real_mean_duration: float
    simulated_mean_duration: float
    duration_ci: tuple[float, float]  # 95 % over replications
    duration_error: float  # |simulated − real| / real
    frequency_errors: dict[str, float]  # per activity: relative error of its share of events
    worst_activity: str
    worst_frequency_error: float
    rare: list[str]  # activities under `rare_share` of events, reported but not judged
    replications: int
    rare_errors: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.duration_error <= 0.10 and self.worst_frequency_error <= 0.05


def validate(
    con: duckdb.DuckDBPyConnection,
    *,
    table: str = "events",
    replications: int = 50,
    seed: int = 0,
    rare_share: float = 0.005,
    progress=None,
) -> Validation:
    """Fit the as-is model on the log, simulate it `replications` times with the log's own number
    of cases, and compare: the mean case duration, and each activity's share of all events.

    Activities making less than `rare_share` of the events (0.5 %: fewer than ~40 of receipt.csv's
    8,577) are listed in `rare` with their errors but not judged: the real log's own count of an
    activity seen 1–8 times carries a sampling error far above 5 %, so no model could be held to it.
    """
    model = fit(con, table)
    means, counts = [], {}
    for r in range(replications):
        run = simulate(model, seed=seed + r, cases=model.cases)
        means.append(run.mean_duration)
        for activity, n in run.activity_counts.items():
            counts[activity] = counts.get(activity, 0) + n
        if progress:
            progress(r + 1, replications)
    simulated = statistics.fmean(means)
    half = 1.96 * statistics.stdev(means) / math.sqrt(len(means)) if len(means) > 1 else 0.0
    real_total = sum(model.activity_counts.values())
    sim_total = sum(counts.values()) or 1
    errors, rare, rare_errors = {}, [], {}
    for activity, n in sorted(model.activity_counts.items()):
        real_share = n / real_total
        error = abs(counts.get(activity, 0) / sim_total - real_share) / real_share
        if real_share < rare_share:
            rare.append(activity)
            rare_errors[activity] = error
            continue
        errors[activity] = error
    worst = max(errors, key=errors.get) if errors else ""
    return Validation(
        real_mean_duration=model.mean_duration,
        simulated_mean_duration=simulated,
        duration_ci=(simulated - half, simulated + half),
        duration_error=abs(simulated - model.mean_duration) / model.mean_duration
        if model.mean_duration
        else 0.0,
        frequency_errors=errors,
        worst_activity=worst,
        worst_frequency_error=errors.get(worst, 0.0),
        rare=rare,
        replications=replications,
        rare_errors=rare_errors,
    )


# --- forecasting a period ahead --------------------------------------------------------------------

WINDOWS = (1.0, 0.5, 0.3, 0.2, 0.1)


def _fit_cases(con: duckdb.DuckDBPyConnection, source: str, cases: list[int]) -> Model:
    from . import eventlog

    con.execute("DROP TABLE IF EXISTS fit_cases")
    con.execute("CREATE TABLE fit_cases AS SELECT UNNEST(?::INTEGER[]) AS case_no", [cases])
    eventlog.encode(
        con, f"(SELECT * FROM {source} WHERE case_no IN (SELECT case_no FROM fit_cases))", "fitted"
    )
    return fit(con, "fitted")


def forecast(
    model: Model,
    start: dt.datetime,
    arrivals_until: dt.datetime,
    observe_until: dt.datetime,
    seed: int = 0,
    cases: int | None = None,
) -> list[tuple[int, str, dt.datetime]]:
    """Simulate the period from `start`: arrivals by the weekly profile until `arrivals_until` (or
    exactly `cases` of them), and the events seen up to `observe_until` (case, activity, time)."""
    monday = (start - dt.timedelta(days=start.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    events: list = []
    simulate(
        model,
        seed=seed,
        cases=cases,
        week_offset=(start - monday).total_seconds(),
        horizon=(arrivals_until - start).total_seconds(),
        record=events,
    )
    limit = (observe_until - start).total_seconds()
    return [(c, a, start + dt.timedelta(seconds=t)) for c, a, t in events if t <= limit]


def _pairs(events: list[tuple[object, str, dt.datetime]]) -> dict[tuple, float]:
    """Share of each (step, next step) pair, the case's start included: how the routing looks."""
    by_case: dict[object, list[tuple[dt.datetime, str]]] = {}
    for case, activity, at in events:
        by_case.setdefault(case, []).append((at, activity))
    counts: dict[tuple, int] = {}
    for steps in by_case.values():
        sequence = [None] + [a for _t, a in sorted(steps, key=lambda x: x[0])]
        for pair in itertools.pairwise(sequence):
            counts[pair] = counts.get(pair, 0) + 1
    total = sum(counts.values()) or 1
    return {k: v / total for k, v in counts.items()}


def _routing_error(real: dict, simulated: dict) -> float:
    return sum(abs(real.get(k, 0.0) - simulated.get(k, 0.0)) for k in set(real) | set(simulated)) / 2


def _mean_cycle(events: list[tuple[object, str, dt.datetime]]) -> float:
    spans: dict[object, list[dt.datetime]] = {}
    for case, _a, at in events:
        spans.setdefault(case, []).append(at)
    return statistics.fmean((max(v) - min(v)).total_seconds() for v in spans.values()) if spans else 0.0


def choose_window(
    con: duckdb.DuckDBPyConnection,
    source: str,
    cases: list[tuple[int, dt.datetime]],
    *,
    replications: int = 3,
) -> tuple[float, float, dict[float, tuple[float, float]]]:
    """Processes drift (receipt.csv's median case went from days to minutes within a year), so a
    forecast should learn from recent cases. Which share of the most recent cases to learn from is
    chosen by backtesting inside the history alone: fit on the first 80 % (each window of it),
    forecast the last 20 % (as many cases as it holds), and keep for each part of the model the
    window that predicts it best: the mean cycle time (hand-over times and arrivals), the shares of
    step pairs (routing). `cases` are (case_no, first event) in arrival order; the held-out future
    is never looked at. Returns ({part: window}, {window: (cycle-time error, routing error)})."""
    cut = int(len(cases) * 0.8)
    inner, held = cases[:cut], cases[cut:]
    held_ids = [c for c, _f in held]
    real = con.execute(
        f"SELECT case_no, CAST(activity AS VARCHAR), ts FROM {source} "
        "WHERE case_no IN (SELECT UNNEST(?::INTEGER[]))",
        [held_ids],
    ).fetchall()
    observe_until = max(t for _c, _a, t in real)
    real_mean = _mean_cycle(real)
    real_pairs = _pairs(real)
    errors = {}
    for window in WINDOWS:
        chosen = [c for c, _f in inner[int(len(inner) * (1 - window)) :]]
        model = _fit_cases(con, source, chosen)
        runs = [
            forecast(model, held[0][1], held[-1][1], observe_until, seed=r, cases=len(held))
            for r in range(replications)
        ]
        mean = statistics.fmean(_mean_cycle(run) for run in runs)
        routing = statistics.fmean(_routing_error(real_pairs, _pairs(run)) for run in runs)
        errors[window] = (abs(mean - real_mean) / real_mean if real_mean else 0.0, routing)
    chosen = {
        part: min(errors, key=lambda w, i=i: errors[w][i]) for i, part in enumerate(("timing", "routing"))
    }
    return chosen, errors


def forecast_model(
    con: duckdb.DuckDBPyConnection, source: str, cases: list[tuple[int, dt.datetime]]
) -> tuple[Model, dict]:
    """The model to forecast the period after `cases` (in arrival order): routing, and hand-over
    times with arrivals, each learnt from the window of recent cases backtesting chose."""
    chosen, errors = choose_window(con, source, cases)
    ids = [c for c, _f in cases]

    def recent(window: float) -> Model:
        return _fit_cases(con, source, ids[int(len(ids) * (1 - window)) :])

    return blend(recent(chosen["routing"]), recent(chosen["timing"])), {"windows": chosen, "backtest": errors}


def blend(routing: Model, timing: Model) -> Model:
    """Routing (which step follows which) from a long history, where it is well estimated;
    arrivals and hand-over times from the recent window, where they are current. Hand-overs the
    recent window never saw keep their older times."""
    delays = dict(routing.delays)
    delays.update(timing.delays)
    fits = dict(routing.fits)
    fits.update(timing.fits)
    return Model(
        start=routing.start,
        routes=routing.routes,
        delays=delays,
        arrival_rates=timing.arrival_rates,
        span=timing.span,
        cases=timing.cases,
        activity_counts=routing.activity_counts,
        mean_duration=timing.mean_duration,
        fits=fits,
    )
