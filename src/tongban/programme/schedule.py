"""Critical path scheduling on the working-day calendar (CPM, finish-to-start links with lags).

Time is counted in working days: index k is the k-th working day of the calendar (core.calendar),
so a lag of 2 skips two *working* days, whatever holidays and 调休 lie between. A task starting on
index s with a duration of d occupies working days s … s+d−1 and its finish boundary is s+d; a
successor linked with lag L starts no earlier than index finish+L. A milestone has no duration: it
is reached at the end of its day, so its boundary is one past that day's index.

The forward pass gives each task its earliest start and finish (a task's own planned start,
`not_before`, is a start-no-earlier-than constraint); the backward pass from the programme's end
gives the latest, and the total float between them. Tasks without float form the critical path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from tongban.core.calendar import FIRST_DAY, WorkingCalendar


class CycleError(ValueError):
    """The links loop back on themselves; `members` are the tasks caught in the loop."""

    def __init__(self, members: list):
        self.members = members
        super().__init__("dependency cycle: " + ", ".join(map(str, members)))


class WorkdayAxis:
    """Dates ↔ working-day indices of a calendar."""

    def __init__(self, calendar: WorkingCalendar):
        self.calendar = calendar
        # The tasks of a plan share few planned starts; the calendar is an immutable snapshot.
        self._start_indices: dict[dt.date, int] = {}

    def start_index(self, day: dt.date) -> int:
        """The index of `day` if it is a working day, else of the next working day."""
        index = self._start_indices.get(day)
        if index is None:
            count = self.calendar.working_days_between(FIRST_DAY, day)
            index = count if self.calendar.is_working_day(day) else count + 1
            self._start_indices[day] = index
        return index

    def date(self, index: int) -> dt.date:
        return self.calendar.add_working_days(FIRST_DAY, int(index))

    def between(self, first: dt.date, last: dt.date) -> int:
        return self.calendar.working_days_between(first, last)


@dataclass
class Node:
    key: str
    duration: float
    not_before: int  # boundary index: a task's first day, a milestone's day + 1
    preds: list[tuple[str, int]] = field(default_factory=list)  # (predecessor key, lag)


@dataclass(frozen=True)
class Timing:
    es: float
    ef: float
    ls: float
    lf: float

    @property
    def total_float(self) -> float:
        return self.ls - self.es

    @property
    def critical(self) -> bool:
        return self.total_float <= 1e-9


def topological(keys: Iterable[str], preds: Mapping[str, Iterable[tuple[str, int]]]) -> list[str]:
    """Keys ordered so every predecessor comes first (Kahn); CycleError names a loop's members."""
    keys = list(keys)
    indegree = {k: 0 for k in keys}
    succs: dict[str, list[str]] = {k: [] for k in keys}
    for k in keys:
        for p, _lag in preds.get(k, ()):
            indegree[k] += 1
            succs[p].append(k)
    ready = [k for k in keys if indegree[k] == 0]
    order = []
    while ready:
        k = ready.pop()
        order.append(k)
        for s in succs[k]:
            indegree[s] -= 1
            if indegree[s] == 0:
                ready.append(s)
    if len(order) < len(keys):
        raise CycleError(sorted(k for k in keys if indegree[k] > 0))
    return order


def cpm(nodes: Mapping[str, Node]) -> dict[str, Timing]:
    """Earliest and latest start and finish of every node (forward, then backward pass)."""
    keys = list(nodes)
    index = {k: i for i, k in enumerate(keys)}
    link_from, link_to, link_lag = [], [], []
    for i, k in enumerate(keys):
        for p, lag in nodes[k].preds:
            link_from.append(index[p])
            link_to.append(i)
            link_lag.append(lag)
    try:
        es, ef, ls, lf = cpm_indexed(
            [nodes[k].duration for k in keys],
            [nodes[k].not_before for k in keys],
            link_from,
            link_to,
            link_lag,
        )
    except CycleError as loop:
        raise CycleError(sorted(keys[int(i)] for i in loop.members)) from None
    return {k: Timing(es[i], ef[i], ls[i], lf[i]) for i, k in enumerate(keys)}


def cpm_indexed(
    durations: Sequence[float],
    not_before: Sequence[int],
    link_from: Sequence[int],
    link_to: Sequence[int],
    link_lag: Sequence[int],
) -> tuple[list, list, list, list]:
    """The passes of `cpm` over tasks numbered 0…n−1 and links given as three parallel sequences
    (predecessor, successor, lag): lists of ES, EF, LS and LF by task number.

    Plain lists of numbers, with the successors in compressed rows, because the Gantt chart runs
    this on every request: per-task objects for 2,000 tasks cost more in allocation and garbage
    collection than the passes themselves (bench programme_gantt). A loop raises CycleError whose
    members are the task numbers caught in it.
    """
    n = len(durations)
    # Successors of task u are succ[first[u]:first[u + 1]], with their lags in lags[…].
    first = [0] * (n + 1)
    indegree = [0] * n
    for p, s in zip(link_from, link_to, strict=True):
        first[p + 1] += 1
        indegree[s] += 1
    for u in range(n):
        first[u + 1] += first[u]
    fill = first[:n]
    succ = [0] * len(link_from)
    lags = [0] * len(link_from)
    for p, s, lag in zip(link_from, link_to, link_lag, strict=True):
        k = fill[p]
        succ[k], lags[k] = s, lag
        fill[p] = k + 1
    # Kahn's order, so every predecessor is scheduled before its successors.
    ready = [u for u in range(n) if indegree[u] == 0]
    order = []
    while ready:
        u = ready.pop()
        order.append(u)
        for k in range(first[u], first[u + 1]):
            v = succ[k]
            indegree[v] -= 1
            if indegree[v] == 0:
                ready.append(v)
    if len(order) < n:
        raise CycleError([u for u in range(n) if indegree[u] > 0])
    es = list(not_before)
    ef = [0] * n
    for u in order:
        finish = ef[u] = es[u] + durations[u]
        for k in range(first[u], first[u + 1]):
            v = succ[k]
            if finish + lags[k] > es[v]:
                es[v] = finish + lags[k]
    end = max(ef, default=0)
    ls = [0] * n
    lf = [0] * n
    for u in reversed(order):
        finish = end
        for k in range(first[u], first[u + 1]):
            latest = ls[succ[k]] - lags[k]
            if latest < finish:
                finish = latest
        lf[u] = finish
        ls[u] = finish - durations[u]
    return es, ef, ls, lf


def constraint_index(axis: WorkdayAxis, not_before: dt.date, milestone: bool) -> int:
    return axis.start_index(not_before) + (1 if milestone else 0)


def dates_of(axis: WorkdayAxis, timing: Timing, milestone: bool) -> tuple[dt.date, dt.date]:
    """(start, finish) dates of a scheduled task: a task's first and last working day; a
    milestone's day twice."""
    if milestone:
        day = axis.date(int(timing.es) - 1)
        return day, day
    return axis.date(int(timing.es)), axis.date(int(timing.ef) - 1)
