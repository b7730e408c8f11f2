"""督查督办 KPIs from the core event log: 办结率 and 按时办结率 of supervised tasks, per lead department.

The documents app writes a supervised task's life on the event log (subject kind
"supervised_task": supervision.created with the lead department, supervision.closed with whether
it closed by its deadline); insight reads only the log, so it needs nothing of the documents app
(ARCHITECTURE.md). The tasks counted are those put under supervision in the period:
办结率 = closed by the period's end / counted; 按时办结率 = closed by their deadline / closed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
from django.utils.translation import gettext_lazy as _

from tongban.accounts import roles as perms
from tongban.accounts.models import Department
from tongban.core import events
from tongban.core.authz import require
from tongban.core.errors import InvalidInput
from tongban.core.replicas import analytics

from .kpis import _bounds

SUBJECT_KIND = "supervised_task"
CREATED = "supervision.created"
CLOSED = "supervision.closed"


@dataclass(frozen=True)
class SupervisionLine:
    department_code: str  # "" for the whole government
    department_name: str
    tasks: int
    closed: int
    closed_on_time: int

    @property
    def closing_rate(self) -> float | None:
        """办结率 (0–1), None where no task was counted."""
        return self.closed / self.tasks if self.tasks else None

    @property
    def on_time_rate(self) -> float | None:
        """按时办结率 (0–1), None where none closed."""
        return self.closed_on_time / self.closed if self.closed else None


_FIGURES = """
    WITH created AS (
        SELECT subject_id, any_value(department_code) AS department_code FROM log
        WHERE activity = $created AND occurred_at >= $since AND occurred_at < $until
        GROUP BY subject_id
    ), closed AS (
        SELECT subject_id, bool_or(on_time) AS on_time FROM log
        WHERE activity = $closed AND occurred_at < $until GROUP BY subject_id
    )
    SELECT coalesce(department_code, '') AS department_code, count(*) AS tasks,
        count(closed.subject_id) AS closed, count(*) FILTER (WHERE closed.on_time) AS closed_on_time
    FROM created LEFT JOIN closed USING (subject_id)
    GROUP BY ROLLUP (department_code)
    ORDER BY department_code NULLS FIRST
"""


@analytics
def figures(actor, start: dt.date, end: dt.date) -> list[SupervisionLine]:
    """The whole government's line first, then one per lead department, for the tasks put under
    supervision from `start` to `end` (local dates, both included)."""
    require(actor, perms.INSIGHT_ANALYSE)
    if end < start:
        raise InvalidInput.single("end", "before_start", _("The period ends before it starts."))
    since, until = _bounds(start, end)
    rows = [
        (
            e.subject_id,
            e.activity,
            e.occurred_at.astimezone(dt.UTC).replace(tzinfo=None),
            e.department_code,
            bool((e.detail or {}).get("on_time")),
        )
        for e in events.stream(subject_kind=SUBJECT_KIND, activities=[CREATED, CLOSED])
    ]
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE log (subject_id VARCHAR, activity VARCHAR, occurred_at TIMESTAMP, "
        "department_code VARCHAR, on_time BOOLEAN)"
    )
    if rows:
        con.executemany("INSERT INTO log VALUES (?, ?, ?, ?, ?)", rows)
    result = con.execute(
        _FIGURES, {"created": CREATED, "closed": CLOSED, "since": since, "until": until}
    ).fetchall()
    con.close()
    codes = [code for code, *_counts in result if code]
    names = dict(Department.objects.filter(code__in=codes).values_list("code", "name"))
    lines = [
        SupervisionLine(code, names.get(code, code), tasks, closed, on_time)
        for code, tasks, closed, on_time in result
    ]
    if not lines:  # no task at all: the whole government's line still says so
        lines = [SupervisionLine("", "", 0, 0, 0)]
    return lines
