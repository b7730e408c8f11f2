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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tongban.core.calendar import FIRST_DAY, WorkingCalendar


class CycleError(ValueError):
    """The links loop back on themselves; `members` are the tasks caught in the loop."""

    def __init__(self, members: list[str]):
        self.members = members
        super().__init__("dependency cycle: " + ", ".join(members))


class WorkdayAxis:
    """Dates ↔ working-day indices of a calendar."""

    def __init__(self, calendar: WorkingCalendar):
        self.calendar = calendar

    def start_index(self, day: dt.date) -> int:
        """The index of `day` if it is a working day, else of the next working day."""
        count = self.calendar.working_days_between(FIRST_DAY, day)
        return count if self.calendar.is_working_day(day) else count + 1

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
    preds = {k: n.preds for k, n in nodes.items()}
    order = topological(nodes, preds)
    es: dict[str, float] = {}
    ef: dict[str, float] = {}
    succs: dict[str, list[tuple[str, int]]] = {k: [] for k in nodes}
    for k in order:
        node = nodes[k]
        start = node.not_before
        for p, lag in node.preds:
            start = max(start, ef[p] + lag)
            succs[p].append((k, lag))
        es[k] = start
        ef[k] = start + node.duration
    end = max(ef.values(), default=0)
    ls: dict[str, float] = {}
    lf: dict[str, float] = {}
    for k in reversed(order):
        finish = end
        for s, lag in succs[k]:
            finish = min(finish, ls[s] - lag)
        lf[k] = finish
        ls[k] = finish - nodes[k].duration
    return {k: Timing(es[k], ef[k], ls[k], lf[k]) for k in nodes}


def constraint_index(axis: WorkdayAxis, not_before: dt.date, milestone: bool) -> int:
    return axis.start_index(not_before) + (1 if milestone else 0)


def dates_of(axis: WorkdayAxis, timing: Timing, milestone: bool) -> tuple[dt.date, dt.date]:
    """(start, finish) dates of a scheduled task: a task's first and last working day; a
    milestone's day twice."""
    if milestone:
        day = axis.date(int(timing.es) - 1)
        return day, day
    return axis.date(int(timing.es)), axis.date(int(timing.ef) - 1)
