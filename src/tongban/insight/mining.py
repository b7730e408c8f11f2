"""Process mining over an event log table (insight.eventlog's shape), in DuckDB SQL.

Everything here is a set operation on the whole log — one window in event order, grouped
aggregates — never a Python loop over events, so 5 million events take about a second. The table
is insight.eventlog's (loaded with `eventlog.load`): events numbered by `pos` in case, then
start-time order where the log has start times, else completion-time order, ties in the source's
order (as PM4Py and other tools order them), so "directly follows" is "the next pos within the same
case_no". Durations are in seconds; a log without timestamps has none (they read 0).
"""

# ruff: noqa: S608  (the table name is our own; no input value becomes SQL text)

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb


@dataclass
class Edge:
    source: str
    target: str
    count: int
    mean: float  # seconds from the source's completion to the target's start (its completion
    # when the log has no start times); negative when they overlap, as in PM4Py
    median: float
    p90: float
    total: float  # count × mean: the time the hand-over between these two costs in all


@dataclass
class DirectlyFollows:
    edges: list[Edge]
    start: dict[str, int]  # activity → cases it starts
    end: dict[str, int]
    activities: dict[str, int]  # activity → events

    def counts(self) -> dict[tuple[str, str], int]:
        return {(e.source, e.target): e.count for e in self.edges}


@dataclass
class Variant:
    activities: tuple[str, ...]
    count: int
    share: float
    mean_duration: float
    median_duration: float


@dataclass
class Overview:
    cases: int
    events: int
    activities: int
    mean_duration: float
    median_duration: float
    p90_duration: float


@dataclass
class Rework:
    activity: str
    cases: int  # cases where it happened more than once
    repeats: int  # executions beyond the first, over all cases
    share: float  # of the cases it occurs in


@dataclass
class Handoffs:
    """Time between a step of one department and the next step of another (跨部门流转)."""

    total: float  # seconds waiting between departments, all cases
    cycle: float  # seconds of all cases' cycle time
    count: int
    pairs: list[dict] = field(default_factory=list)  # [{"from", "to", "count", "mean", "total"}]

    @property
    def share(self) -> float | None:
        return self.total / self.cycle if self.cycle else None


_NEXT = "ORDER BY pos"  # a case's events are consecutive in pos
# From an event's completion to the next one's start — PM4Py's flow time on interval logs: in
# start-time order the next event may start before this one completes, and the time is then
# negative (they overlap), as PM4Py reports it. A log without start times has the plain difference
# of completions (never negative in its order, and a third cheaper on millions of events). NULL in
# a log without timestamps.
_WAIT_INTERVAL = "epoch(COALESCE(LEAD(start_ts) OVER w, LEAD(ts) OVER w)) - epoch(ts)"
_WAIT_COMPLETE = "epoch(LEAD(ts) OVER w) - epoch(ts)"


def _wait(con: duckdb.DuckDBPyConnection, table: str, *, at_least_zero: bool = False) -> str:
    starts = con.execute(f"SELECT COUNT(start_ts) FROM {table}").fetchall()[0][0]
    if not starts:
        return _WAIT_COMPLETE
    return f"GREATEST({_WAIT_INTERVAL}, 0)" if at_least_zero else _WAIT_INTERVAL


def _f(value) -> float:
    """A duration from SQL; 0 where the log has no times (a log without timestamps)."""
    return 0.0 if value is None else float(value)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def directly_follows(con: duckdb.DuckDBPyConnection, table: str = "events") -> DirectlyFollows:
    """The directly-follows graph with frequencies and performance (mean, median, p90), start and
    end activities and activity counts — one pass of a window over the cases."""
    edges = [
        Edge(a, b, n, _f(mean), _f(median), _f(p90), n * _f(mean))
        for a, b, n, mean, median, p90 in _rows(
            con,
            f"""
            WITH steps AS (
                SELECT case_no, activity AS a, LEAD(activity) OVER w AS b, LEAD(case_no) OVER w AS next_case,
                       {_wait(con, table)} AS d
                FROM {table} WINDOW w AS ({_NEXT})
            )
            SELECT CAST(a AS VARCHAR), CAST(b AS VARCHAR), COUNT(*), AVG(d), MEDIAN(d), QUANTILE_CONT(d, 0.9)
            FROM steps WHERE next_case = case_no GROUP BY a, b ORDER BY COUNT(*) DESC, 1, 2
            """,
        )
    ]
    ends = _rows(
        con,
        f"""
        SELECT CAST(first_a AS VARCHAR), CAST(last_a AS VARCHAR), COUNT(*) FROM (
            SELECT ARG_MIN(activity, pos) AS first_a, ARG_MAX(activity, pos) AS last_a
            FROM {table} GROUP BY case_no
        ) GROUP BY first_a, last_a
        """,
    )
    start: dict[str, int] = {}
    end: dict[str, int] = {}
    for first, last, n in ends:
        start[first] = start.get(first, 0) + n
        end[last] = end.get(last, 0) + n
    activities = dict(
        _rows(
            con, f"SELECT CAST(activity AS VARCHAR), COUNT(*) FROM {table} GROUP BY activity ORDER BY 2 DESC"
        )
    )
    return DirectlyFollows(edges, start, end, activities)


def variants(
    con: duckdb.DuckDBPyConnection, table: str = "events", limit: int | None = None
) -> list[Variant]:
    """Distinct activity sequences with how many cases follow each and how long they take."""
    rows = _rows(
        con,
        f"""
        WITH traces AS (
            SELECT LIST(activity ORDER BY pos) AS variant, epoch(MAX(ts)) - epoch(MIN(ts)) AS duration
            FROM {table} GROUP BY case_no
        )
        SELECT variant, COUNT(*) AS n, AVG(duration), MEDIAN(duration), SUM(COUNT(*)) OVER ()
        FROM traces GROUP BY variant ORDER BY n DESC, CAST(variant AS VARCHAR)
        {f"LIMIT {int(limit)}" if limit else ""}
        """,
    )
    return [
        Variant(tuple(v), n, n / float(total), _f(mean), _f(median)) for v, n, mean, median, total in rows
    ]


def overview(con: duckdb.DuckDBPyConnection, table: str = "events") -> Overview:
    cases, events, activities, mean, median, p90 = _rows(
        con,
        f"""
        WITH c AS (SELECT epoch(MAX(ts)) - epoch(MIN(ts)) AS d, COUNT(*) AS n FROM {table} GROUP BY case_no)
        SELECT COUNT(*), SUM(n), (SELECT COUNT(DISTINCT activity) FROM {table}),
               AVG(d), MEDIAN(d), QUANTILE_CONT(d, 0.9) FROM c
        """,
    )[0]
    return Overview(
        cases, int(events or 0), activities, float(mean or 0), float(median or 0), float(p90 or 0)
    )


def rework(con: duckdb.DuckDBPyConnection, table: str = "events") -> list[Rework]:
    """Activities done more than once in a case (loops back: 补正, 退回), most repeated first."""
    return [
        Rework(a, int(cases), int(repeats), float(share))
        for a, cases, repeats, share in _rows(
            con,
            f"""
            WITH per_case AS (SELECT activity, case_no, COUNT(*) AS n FROM {table} GROUP BY activity, case_no)
            SELECT CAST(activity AS VARCHAR), COUNT(*) FILTER (WHERE n > 1), SUM(n - 1),
                   COUNT(*) FILTER (WHERE n > 1) / COUNT(*)
            FROM per_case GROUP BY activity HAVING SUM(n - 1) > 0 ORDER BY 3 DESC, 1
            """,
        )
    ]


def bottlenecks(graph: DirectlyFollows, top: int = 10) -> list[Edge]:
    """Hand-overs ranked by the time they cost in all (count × mean wait): where redesign pays."""
    return sorted(graph.edges, key=lambda e: e.total, reverse=True)[:top]


def handoffs(con: duckdb.DuckDBPyConnection, table: str = "events") -> Handoffs:
    """Waiting between departments: each pair of consecutive events whose groups differ. One pass
    over the events, grouped by department pair; the totals are the sums of the pairs."""
    grouped = _rows(
        con,
        f"""
        WITH steps AS (
            SELECT case_no, grp AS g, LEAD(grp) OVER w AS h, LEAD(case_no) OVER w AS next_case,
                   {_wait(con, table)} AS d
            FROM {table} WINDOW w AS ({_NEXT})
        )
        SELECT g, h, COUNT(*), AVG(d), SUM(d) FROM steps
        WHERE next_case = case_no AND g IS NOT NULL AND h IS NOT NULL AND g <> h
        GROUP BY g, h ORDER BY 5 DESC, 1, 2
        """,
    )
    cycle = _rows(
        con,
        "SELECT COALESCE(SUM(d), 0) FROM "
        f"(SELECT epoch(MAX(ts)) - epoch(MIN(ts)) AS d FROM {table} GROUP BY case_no)",
    )[0][0]
    pairs = [
        {"from": g, "to": h, "count": n, "mean": _f(mean), "total": _f(s)}
        for g, h, n, mean, s in grouped[:20]
    ]
    total = sum(_f(s) for *_rest, s in grouped)
    return Handoffs(total, _f(cycle), sum(n for _g, _h, n, _m, _s in grouped), pairs)


def positions(con: duckdb.DuckDBPyConnection, table: str = "events") -> dict[str, float]:
    """Each activity's mean position within its cases (0 = first step): where it sits on a map
    drawn left to right."""
    return {
        a: float(p)
        for a, p in _rows(
            con,
            f"""
            WITH numbered AS (
                SELECT activity, pos - MIN(pos) OVER (PARTITION BY case_no) AS i FROM {table}
            )
            SELECT CAST(activity AS VARCHAR), AVG(i) FROM numbered GROUP BY activity
            """,
        )
    }


def process_map(
    graph: DirectlyFollows, where: dict[str, float], *, max_edges: int = 40, per_column: int = 4
) -> dict:
    """Nodes placed left to right by their mean position in cases, at most `per_column` to a column
    (a crowded position spills into the next columns, so boxes never overlap), and the most
    frequent edges (at most max_edges) with the activities they join: what the process-map chart
    draws."""
    edges = sorted(graph.edges, key=lambda e: e.count, reverse=True)[:max_edges]
    shown = {e.source for e in edges} | {e.target for e in edges} | set(graph.start) | set(graph.end)
    groups: dict[int, list[str]] = {}
    for activity in sorted(shown, key=lambda a: (where.get(a, 0.0), -graph.activities.get(a, 0))):
        groups.setdefault(round(where.get(activity, 0.0)), []).append(activity)
    nodes, column, tallest = [], 0, 1
    for _position, names in sorted(groups.items()):
        for first in range(0, len(names), per_column):
            chunk = names[first : first + per_column]
            tallest = max(tallest, len(chunk))
            for row, name in enumerate(chunk):
                nodes.append(
                    {
                        "name": name,
                        "x": column * 200,
                        "y": (row - (len(chunk) - 1) / 2) * 100,
                        "count": graph.activities.get(name, 0),
                        "start": graph.start.get(name, 0),
                        "end": graph.end.get(name, 0),
                    }
                )
            column += 1
    top = max((e.count for e in edges), default=1)
    return {
        "nodes": nodes,
        "columns": column,
        "rows": tallest,
        "edges": [
            {
                "source": e.source,
                "target": e.target,
                "count": e.count,
                "mean_hours": round(e.mean / 3600, 2),
                "median_hours": round(e.median / 3600, 2),
                "p90_hours": round(e.p90 / 3600, 2),
                "weight": round(e.count / top, 4),
            }
            for e in edges
        ],
        "hidden_edges": max(0, len(graph.edges) - len(edges)),
        "hidden_activities": max(0, len(graph.activities) - len(shown)),
    }


@dataclass
class ValueStream:
    """Where the cycle time goes: work in value-adding steps, work in the others, and waiting."""

    cycle: float  # seconds, all cases
    value_adding_work: float
    other_work: float
    waiting: float
    steps: list[dict]  # per step: name, value_adding, count, work, waiting (seconds, all cases)

    @property
    def non_value_adding_share(self) -> float | None:
        """Share of cycle time in non-value-adding steps and waiting."""
        return (self.other_work + self.waiting) / self.cycle if self.cycle else None


def value_stream(
    con: duckdb.DuckDBPyConnection,
    value_adding: set[str],
    work_minutes: dict[str, float],
    table: str = "events",
) -> ValueStream:
    """Each hand-over's time is the step's work (at most its estimated work minutes) and waiting
    (the rest): with completion times only, that is as fine as a log allows."""
    rows = _rows(
        con,
        f"""
        WITH steps AS (
            SELECT case_no, CAST(LEAD(activity) OVER w AS VARCHAR) AS b, LEAD(case_no) OVER w AS next_case,
                   {_wait(con, table, at_least_zero=True)} AS d
            FROM {table} WINDOW w AS (ORDER BY pos)
        )
        SELECT b, COUNT(*), LIST(d) FROM steps WHERE next_case = case_no GROUP BY b ORDER BY b
        """,
    )
    steps, va, other, waiting = [], 0.0, 0.0, 0.0
    for name, count, durations in rows:
        durations = [d for d in durations if d is not None]
        cap = work_minutes.get(name, 20.0) * 60
        work = sum(min(d, cap) for d in durations)
        wait = sum(durations) - work
        is_va = name in value_adding
        steps.append({"name": name, "value_adding": is_va, "count": count, "work": work, "waiting": wait})
        waiting += wait
        if is_va:
            va += work
        else:
            other += work
    steps.sort(key=lambda s: s["waiting"] + s["work"], reverse=True)
    return ValueStream(va + other + waiting, va, other, waiting, steps)
