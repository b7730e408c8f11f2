"""One row per case with what the KPIs of DOMAIN.md need, exported from the case tables to Parquet.

The KPIs (insight.kpis) are then set operations in DuckDB over this snapshot: a million cases in
well under a second, whatever database the cases live in. The export is where the per-case work
happens once: working days from acceptance to completion on the working-day calendar (paused time
taken off), whether it was on time, staff minutes from the steps, 免提交 counts, the rating.

Columns (all per case):
    number, department, department_path, region (the department's, GB/T 2260), item, channel,
    window_kind, status, decision,
    submitted_at, accepted_at, closed_at (UTC), limit_days, statutory_days, promised_days,
    processing_days (working days, paused excluded; NULL while open), on_time (NULL while open),
    visits, by_commitment, auto_eligible, auto_decided, materials_required, materials_exempted,
    materials_paper, pages, staff_minutes, rating (1–5 or NULL), bad_rectified_in_time (NULL unless bad)
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from tongban.core import calendar, replicas, sql

from . import eventlog

COLUMNS = (
    "number",
    "department",
    "department_path",
    "region",
    "item",
    "channel",
    "window_kind",
    "status",
    "decision",
    "submitted_at",
    "accepted_at",
    "closed_at",
    "limit_days",
    "statutory_days",
    "promised_days",
    "processing_days",
    "on_time",
    "visits",
    "by_commitment",
    "auto_eligible",
    "auto_decided",
    "materials_required",
    "materials_exempted",
    "materials_paper",
    "pages",
    "staff_minutes",
    "rating",
    "bad_rectified_in_time",
)
TYPES = {
    "limit_days": "INTEGER",
    "statutory_days": "INTEGER",
    "promised_days": "INTEGER",
    "processing_days": "DOUBLE",
    "on_time": "BOOLEAN",
    "visits": "INTEGER",
    "by_commitment": "BOOLEAN",
    "auto_eligible": "BOOLEAN",
    "auto_decided": "BOOLEAN",
    "materials_required": "INTEGER",
    "materials_exempted": "INTEGER",
    "materials_paper": "INTEGER",
    "pages": "INTEGER",
    "staff_minutes": "DOUBLE",
    "rating": "INTEGER",
    "bad_rectified_in_time": "BOOLEAN",
    "submitted_at": "TIMESTAMP",
    "accepted_at": "TIMESTAMP",
    "closed_at": "TIMESTAMP",
}
STEP_MINUTES_CAP = 240  # a step held longer than half a day was waiting, not being worked on
PAGES_PER_RESULT = 2  # the decision document and the receipt
CLOSED = ("issued", "not_accepted", "withdrawn", "revoked")


def _dt(value) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _utc(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ") if value else ""


def _per_case(query: str, using: str) -> dict:
    return {row[0]: row[1:] for row in sql.all_rows(query, using=using)}


def export(out: Path, progress: Callable[[int], None] | None = None) -> int:
    """Write the case facts to `out` (Parquet); returns the number of cases.

    Read from the replica when the caller is an analytics function and the replica is fit."""
    cal = calendar.get_calendar()
    using = replicas.read_alias()
    materials = _per_case(
        "SELECT case_id, SUM(CASE WHEN required THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN required AND source IN ('licence', 'shared') THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN source = 'paper' THEN 1 ELSE 0 END) FROM cases_casematerial GROUP BY case_id",
        using,
    )
    ratings = _per_case(
        "SELECT r.case_id, r.score, w.status, w.completed_at, w.due_at FROM cases_rating r "
        "LEFT JOIN workflow_workitem w ON w.public_id = r.rectification",
        using,
    )
    minutes: dict[str, float] = {}
    for subject, claimed, completed in sql.all_rows(
        "SELECT subject, claimed_at, completed_at FROM workflow_workitem "
        "WHERE status = 'completed' AND claimed_at IS NOT NULL AND completed_at IS NOT NULL",
        using=using,
    ):
        held = (_dt(completed) - _dt(claimed)).total_seconds() / 60
        minutes[subject] = minutes.get(subject, 0.0) + max(0.0, min(held, STEP_MINUTES_CAP))
    rows = sql.execute(
        "SELECT c.id, c.number, d.code, d.path, d.region_id, COALESCE(si.code, b.code), c.channel, w.kind, "
        "c.status, "
        "c.decision, c.submitted_at, c.accepted_at, c.closed_at, c.limit_days, iv.statutory_limit_days, "
        "COALESCE(iv.promised_limit_days, bv.promised_limit_days), c.paused_days, c.due_at, c.visits, "
        "c.by_commitment, iv.auto_approvable, c.decision_basis "
        "FROM cases_case c JOIN accounts_department d ON d.id = c.department_id "
        "LEFT JOIN catalog_itemversion iv ON iv.id = c.item_version_id "
        "LEFT JOIN catalog_serviceitem si ON si.id = iv.item_id "
        "LEFT JOIN catalog_bundleversion bv ON bv.id = c.bundle_version_id "
        "LEFT JOIN catalog_bundle b ON b.id = bv.bundle_id "
        "LEFT JOIN accounts_window w ON w.id = c.window_id ORDER BY c.id",
        using=using,
    )
    count = 0
    with tempfile.TemporaryDirectory(prefix="tongban-facts-") as tmp:
        staged = Path(tmp) / "facts.csv"
        with open(staged, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            while batch := rows.fetchmany(5000):
                for (
                    case_id,
                    number,
                    department,
                    path,
                    region,
                    item,
                    channel,
                    window_kind,
                    status,
                    decision,
                    submitted,
                    accepted,
                    closed,
                    limit_days,
                    statutory,
                    promised,
                    paused,
                    due,
                    visits,
                    by_commitment,
                    auto_eligible,
                    basis,
                ) in batch:
                    submitted, accepted, closed, due = _dt(submitted), _dt(accepted), _dt(closed), _dt(due)
                    processing = on_time = None
                    if status in CLOSED and accepted and closed:
                        processing = max(0.0, cal.elapsed_working_days(accepted, closed) - float(paused or 0))
                        on_time = closed <= due if due else (processing <= limit_days if limit_days else True)
                    if isinstance(basis, str):
                        basis = json.loads(basis or "{}")
                    required, exempted, paper = materials.get(case_id, (0, 0, 0))
                    score, work_status, done_at, work_due = ratings.get(case_id, (None, None, None, None))
                    rectified = None
                    if score is not None and score <= 2:
                        done_at, work_due = _dt(done_at), _dt(work_due)
                        rectified = bool(
                            work_status == "completed" and done_at and (not work_due or done_at <= work_due)
                        )
                    writer.writerow(
                        [
                            number,
                            department,
                            path,
                            region or "",
                            item or "",
                            channel,
                            window_kind or "",
                            status,
                            decision or "",
                            _utc(submitted),
                            _utc(accepted),
                            _utc(closed),
                            "" if limit_days is None else limit_days,
                            "" if statutory is None else statutory,
                            "" if promised is None else promised,
                            "" if processing is None else round(processing, 4),
                            "" if on_time is None else on_time,
                            visits or 0,
                            bool(by_commitment),
                            bool(auto_eligible),
                            (basis or {}).get("kind") == "rule",
                            int(required or 0),
                            int(exempted or 0),
                            int(paper or 0),
                            PAGES_PER_RESULT if status == "issued" else 0,
                            round(minutes.get(number, 0.0), 2),
                            "" if score is None else score,
                            "" if rectified is None else rectified,
                        ]
                    )
                    count += 1
                if progress:
                    progress(count)
        con = eventlog.connect()
        types = ", ".join(f"'{c}': '{TYPES.get(c, 'VARCHAR')}'" for c in COLUMNS)
        out.parent.mkdir(parents=True, exist_ok=True)
        # Several app servers and workers may share var/ (docs/scale.md): each stages its own file.
        partial = out.with_suffix(f".{os.getpid()}.{threading.get_ident()}.partial")
        con.execute(
            f"COPY (SELECT * FROM read_csv('{staged}', header=true, columns={{{types}}})) "  # noqa: S608
            f"TO '{partial}' (FORMAT PARQUET, COMPRESSION ZSTD)"
        )
        partial.replace(out)
    return count
