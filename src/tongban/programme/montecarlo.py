"""Schedule risk by Monte Carlo: the programme's finish as a distribution, and each task's
criticality index.

Every run draws each task's duration from its three-point estimate — triangular, or PERT (a beta
distribution on [optimistic, pessimistic] with shape 1 + 4·(likely − optimistic)/(range), mean
(o + 4m + p)/6) — and each risk event's occurrence from its probability; an event that occurs adds
its delay to the tasks it affects. The network is then scheduled with the forward and backward
passes of programme.schedule, all runs at once: numpy arrays of one row per task and one column per
run, so Python loops over tasks only (500 of them), never over runs. A seed makes a run repeatable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .schedule import topological

DISTRIBUTIONS = ("triangular", "pert")


@dataclass(frozen=True)
class TaskEstimate:
    key: str
    optimistic: float
    likely: float
    pessimistic: float
    not_before: float = 0.0  # boundary index relative to the programme's start
    preds: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class RiskEvent:
    key: str
    probability: float
    delay: float
    tasks: tuple[str, ...]


@dataclass
class Result:
    runs: int
    seed: int
    distribution: str
    finishes: np.ndarray  # programme finish boundary per run (working days from the origin)
    criticality: dict[str, float]  # task → share of runs in which it was critical
    deterministic: float  # the finish with every task at its most likely duration and no risk

    def percentile(self, p: float) -> float:
        return float(np.percentile(self.finishes, p))

    def histogram(self, bins: int = 30) -> tuple[list[int], list[float]]:
        counts, edges = np.histogram(self.finishes, bins=bins)
        return counts.tolist(), edges.tolist()

    def s_curve(self, points: int = 50) -> list[tuple[float, float]]:
        """(finish, share of runs finished by then) at evenly spaced shares."""
        shares = np.linspace(0, 100, points + 1)
        return [
            (float(v), float(s / 100))
            for v, s in zip(np.percentile(self.finishes, shares), shares, strict=True)
        ]


def _durations(rng, tasks: Sequence[TaskEstimate], runs: int, distribution: str) -> np.ndarray:
    a = np.array([t.optimistic for t in tasks], dtype=np.float64)
    m = np.array([t.likely for t in tasks], dtype=np.float64)
    b = np.array([t.pessimistic for t in tasks], dtype=np.float64)
    width = b - a
    out = np.empty((len(tasks), runs), dtype=np.float64)
    fixed = width <= 0
    out[fixed] = m[fixed, None]
    varied = ~fixed
    if not varied.any():
        return out
    av, mv, bv, wv = a[varied], m[varied], b[varied], width[varied]
    u = rng.random((int(varied.sum()), runs))
    if distribution == "triangular":
        # inverse CDF, one expression for all tasks and runs (numpy's triangular takes scalars
        # per call only when left == right is excluded; this also keeps one stream of draws)
        c = ((mv - av) / wv)[:, None]
        low = av[:, None] + np.sqrt(u * (wv * (mv - av))[:, None])
        high = bv[:, None] - np.sqrt((1 - u) * (wv * (bv - mv))[:, None])
        out[varied] = np.where(u < c, low, high)
    else:
        alpha = 1 + 4 * (mv - av) / wv
        beta = 1 + 4 * (bv - mv) / wv
        draws = rng.beta(alpha[:, None], beta[:, None], size=(len(av), runs))
        out[varied] = av[:, None] + draws * wv[:, None]
    return out


def simulate(
    tasks: Sequence[TaskEstimate],
    risks: Sequence[RiskEvent] = (),
    *,
    runs: int = 10_000,
    seed: int = 0,
    distribution: str = "triangular",
) -> Result:
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"unknown distribution {distribution!r}")
    if runs < 1:
        raise ValueError("at least one run")
    index = {t.key: i for i, t in enumerate(tasks)}
    order = [index[k] for k in topological(index, {t.key: t.preds for t in tasks})]
    rng = np.random.default_rng(seed)
    durations = _durations(rng, tasks, runs, distribution)
    if risks:
        hit = np.zeros((len(tasks), len(risks)), dtype=np.float64)
        for j, r in enumerate(risks):
            for key in r.tasks:
                hit[index[key], j] = r.delay
        occurs = (rng.random((len(risks), runs)) < np.array([r.probability for r in risks])[:, None]).astype(
            np.float64
        )
        durations += hit @ occurs
    preds = [[(index[p], float(lag)) for p, lag in t.preds] for t in tasks]
    succs: list[list[tuple[int, float]]] = [[] for _ in tasks]
    for i, plist in enumerate(preds):
        for p, lag in plist:
            succs[p].append((i, lag))
    es = np.empty_like(durations)
    ef = np.empty_like(durations)
    for i in order:
        row = es[i]
        row.fill(tasks[i].not_before)
        for p, lag in preds[i]:
            np.maximum(row, ef[p] + lag if lag else ef[p], out=row)
        np.add(row, durations[i], out=ef[i])
    finish = ef.max(axis=0)
    ls = np.empty_like(durations)
    for i in reversed(order):
        row = ls[i]
        row[:] = finish
        for s, lag in succs[i]:
            np.minimum(row, ls[s] - lag if lag else ls[s], out=row)
        row -= durations[i]
    critical = (ls - es) <= 1e-9
    share = critical.mean(axis=1)
    deterministic = _deterministic(tasks, preds, order)
    return Result(
        runs,
        seed,
        distribution,
        finish,
        {t.key: float(share[i]) for i, t in enumerate(tasks)},
        deterministic,
    )


def _deterministic(tasks, preds, order) -> float:
    ef = [0.0] * len(tasks)
    for i in order:
        start = tasks[i].not_before
        for p, lag in preds[i]:
            start = max(start, ef[p] + lag)
        ef[i] = start + tasks[i].likely
    return max(ef, default=0.0)


def triangular_quantile(p: float, a: float, m: float, b: float) -> float:
    """The closed-form p-quantile of a triangular distribution (what the tests check against)."""
    c = (m - a) / (b - a)
    if p < c:
        return a + (p * (b - a) * (m - a)) ** 0.5
    return b - ((1 - p) * (b - a) * (b - m)) ** 0.5


def pert_mean(a: float, m: float, b: float) -> float:
    return (a + 4 * m + b) / 6


def from_mapping(rows: Mapping[str, dict]) -> list[TaskEstimate]:
    return [TaskEstimate(key, **row) for key, row in rows.items()]
