"""The KPIs of DOMAIN.md over the case facts (insight.facts), in one DuckDB query per grouping.

A period selects cases by when they were submitted (intake figures: channel, window, 免提交) or
closed (completion figures: on time, processing time, online completion, cost); ratings belong to
the cases closed in the period. Filters narrow to a department's sub-tree, an item, a channel.
Grouped by department, the same figures make the league table (排行榜).
"""

# ruff: noqa: S608  (column and table names are our own; values are bound parameters)

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
from django.utils import translation
from django.utils.translation import pgettext_lazy

from tongban.core import calendar

# (key, label, better when): the figures a report shows, in order. Labels follow the reader's
# language; official documents (预警函, XLSX reports) take them in Chinese through `label_zh`.
KPIS = (
    ("online_completion_rate", pgettext_lazy("kpi", "Online completion rate"), "high"),
    ("one_window_rate", pgettext_lazy("kpi", "One-window acceptance rate"), "high"),
    ("on_time_rate", pgettext_lazy("kpi", "On-time completion rate"), "high"),
    ("mean_processing_days", pgettext_lazy("kpi", "Mean processing time (working days)"), "low"),
    ("median_processing_days", pgettext_lazy("kpi", "Median processing time (working days)"), "low"),
    ("p90_processing_days", pgettext_lazy("kpi", "Processing time p90 (working days)"), "low"),
    ("visits_per_case", pgettext_lazy("kpi", "Visits per case"), "low"),
    ("zero_visit_rate", pgettext_lazy("kpi", "Zero-visit rate"), "high"),
    ("exemption_rate", pgettext_lazy("kpi", "Materials-exempt rate"), "high"),
    ("auto_rate", pgettext_lazy("kpi", "Automatic approval rate"), "high"),
    ("intervention_rate", pgettext_lazy("kpi", "Manual intervention rate"), "low"),
    ("good_rate", pgettext_lazy("kpi", "Good rating rate"), "high"),
    ("bad_rate", pgettext_lazy("kpi", "Poor rating rate"), "low"),
    ("rectified_rate", pgettext_lazy("kpi", "Poor ratings rectified"), "high"),
    ("cost_per_case", pgettext_lazy("kpi", "Cost per case (yuan)"), "low"),
)
LABELS = {key: label for key, label, _d in KPIS}
# Targets of the plans we serve (../shared/CONTEXT.md), used until a supervisor sets their own.
DEFAULT_TARGETS = {
    "online_completion_rate": 0.90,  # 全程网办 90 %
    "one_window_rate": 1.00,  # 一窗受理 100 %
    "on_time_rate": 0.95,  # 限时办结 (the plans give no figure: a default)
    "mean_processing_days": 6.0,  # 15 → ≤ 6 working days
    "good_rate": 0.95,  # satisfaction ≥ 95 %
    "bad_rate": 0.05,  # 差评率 > 5 % alarms
    "rectified_rate": 1.00,  # 差评整改率 100 %
    "intervention_rate": 0.20,  # 人工干预率 < 20 %
}
# The five dimensions of the radar chart: (label, KPI).
RADAR = (
    (pgettext_lazy("kpi", "Speed"), "mean_processing_days"),
    (pgettext_lazy("kpi", "On time"), "on_time_rate"),
    (pgettext_lazy("kpi", "Online"), "online_completion_rate"),
    (pgettext_lazy("kpi", "Satisfaction"), "good_rate"),
    (pgettext_lazy("kpi", "Cost"), "cost_per_case"),
)
DIRECTION = {key: direction for key, _l, direction in KPIS}


def label_zh(key: str) -> str:
    """A KPI's name as official Chinese documents print it, whatever the reader's language."""
    with translation.override("zh-hans"):
        return str(LABELS[key])


@dataclass(frozen=True)
class UnitCosts:
    """DOMAIN.md's default unit costs (settings may override): what a staff hour, a printed page
    and a citizen's trip to a window cost."""

    staff_hour: float = 80.0
    page: float = 0.5
    visit: float = 100.0


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = calendar.local_tz()
    since = dt.datetime.combine(start, dt.time(), tzinfo=tz).astimezone(dt.UTC).replace(tzinfo=None)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return since, until.astimezone(dt.UTC).replace(tzinfo=None)


_FIGURES = """
    COUNT(*) FILTER (WHERE submitted) AS submitted_cases,
    COUNT(*) FILTER (WHERE closed) AS closed_cases,
    COUNT(*) FILTER (WHERE closed AND status = 'issued' AND visits = 0 AND materials_paper = 0)
        / NULLIF(COUNT(*) FILTER (WHERE closed AND status = 'issued'), 0) AS online_completion_rate,
    COUNT(*) FILTER (WHERE submitted AND channel = 'window' AND window_kind = 'comprehensive')
        / NULLIF(COUNT(*) FILTER (WHERE submitted AND channel = 'window'), 0) AS one_window_rate,
    COUNT(*) FILTER (WHERE closed AND on_time)
        / NULLIF(COUNT(*) FILTER (WHERE closed AND on_time IS NOT NULL), 0) AS on_time_rate,
    AVG(processing_days) FILTER (WHERE closed) AS mean_processing_days,
    MEDIAN(processing_days) FILTER (WHERE closed) AS median_processing_days,
    QUANTILE_CONT(processing_days, 0.9) FILTER (WHERE closed) AS p90_processing_days,
    AVG(visits) FILTER (WHERE closed) AS visits_per_case,
    COUNT(*) FILTER (WHERE closed AND visits = 0)
        / NULLIF(COUNT(*) FILTER (WHERE closed), 0) AS zero_visit_rate,
    SUM(materials_exempted) FILTER (WHERE submitted)
        / NULLIF(SUM(materials_required) FILTER (WHERE submitted), 0) AS exemption_rate,
    COUNT(*) FILTER (WHERE closed AND auto_eligible AND auto_decided)
        / NULLIF(COUNT(*) FILTER (WHERE closed AND auto_eligible), 0) AS auto_rate,
    COUNT(*) FILTER (WHERE closed AND auto_eligible AND NOT auto_decided AND status = 'issued')
        / NULLIF(COUNT(*) FILTER (WHERE closed AND auto_eligible), 0) AS intervention_rate,
    COUNT(*) FILTER (WHERE closed AND rating >= 4)
        / NULLIF(COUNT(*) FILTER (WHERE closed AND rating IS NOT NULL), 0) AS good_rate,
    COUNT(*) FILTER (WHERE closed AND rating <= 2)
        / NULLIF(COUNT(*) FILTER (WHERE closed AND rating IS NOT NULL), 0) AS bad_rate,
    COUNT(*) FILTER (WHERE closed AND bad_rectified_in_time)
        / NULLIF(COUNT(*) FILTER (WHERE closed AND rating <= 2), 0) AS rectified_rate,
    AVG(staff_minutes / 60.0 * $staff_hour + pages * $page + visits * $visit) FILTER (WHERE closed)
        AS cost_per_case
"""


def compute(
    con: duckdb.DuckDBPyConnection,
    start: dt.date,
    end: dt.date,
    *,
    table: str = "facts",
    department_path: str = "",
    item: str = "",
    channel: str = "",
    region: str = "",
    by: str = "",
    costs: UnitCosts = UnitCosts(),
) -> list[dict]:
    """Every KPI for the period and filters (department sub-tree, item, channel, region with all
    below it); one row, or one per department / bureau / item / channel / region (`by`), with the
    case counts each rests on. Rates are 0–1, NULL where nothing was counted."""
    since, until = _bounds(start, end)
    group = {
        "": "",
        "department": "department",
        "bureau": "split_part(department_path, '/', 3)",  # /gov/<bureau>/…: the bureau a case belongs to
        "item": "item",
        "channel": "channel",
        "region": "region",
    }[by]
    where, params = ["1 = 1"], {"since": since, "until": until, **costs.__dict__}
    if department_path:
        where.append("starts_with(department_path, $path)")
        params["path"] = department_path
    if item:
        where.append("item = $item")
        params["item"] = item
    if channel:
        where.append("channel = $channel")
        params["channel"] = channel
    if region:
        # GB/T 2260: a province's code ends in 0000, a city's in 00 — its prefix takes in all below.
        where.append("starts_with(region, $region)")
        params["region"] = (
            region[:2] if region.endswith("0000") else (region[:4] if region.endswith("00") else region)
        )
    query = f"""
        WITH scoped AS (
            SELECT *, submitted_at >= $since AND submitted_at < $until AS submitted,
                      closed_at >= $since AND closed_at < $until AS closed
            FROM {table} WHERE {" AND ".join(where)}
        )
        SELECT {f"{group} AS unit," if group else "'' AS unit,"} {_FIGURES}
        FROM scoped WHERE submitted OR closed
        {"GROUP BY unit ORDER BY unit" if group else ""}
    """
    cursor = con.execute(query, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def status(value: float | None, target: float | None, *, direction: str, yellow_margin: float = 0.05) -> str:
    """green / yellow / red against a target: red when on the wrong side of it by more than the
    margin (relative), yellow when short of it within the margin, green when it is met."""
    if value is None or target is None:
        return ""
    if direction == "high":
        if value >= target:
            return "green"
        return "yellow" if value >= target * (1 - yellow_margin) else "red"
    if value <= target:
        return "green"
    return "yellow" if value <= target * (1 + yellow_margin) else "red"


def league(rows: list[dict], key: str, *, top: int = 10, bottom: int = 5) -> list[dict]:
    """Units ranked on one KPI (best first; equal values share a rank), the first `top` marked top
    and the last `bottom` marked bottom; in a short table the bottom takes at most half and the top
    the rest, so no unit is both.

    A mark compares units, so a unit alone gets none; and ▲ is praise, so a unit that is red against
    its target (a row's "status" for the KPI, when given) never gets it, however it ranks.
    """
    ranked = sorted(
        (r for r in rows if r.get(key) is not None), key=lambda r: r[key], reverse=DIRECTION[key] == "high"
    )
    if len(ranked) < 2:
        return [{**row, "rank": 1, "mark": ""} for row in ranked]
    bottom_n = min(bottom, len(ranked) // 2)
    top_n = min(top, len(ranked) - bottom_n)
    marked, rank, previous = [], 0, object()
    for i, row in enumerate(ranked, 1):
        if row[key] != previous:
            rank, previous = i, row[key]
        red = (row.get("status") or {}).get(key) == "red"
        mark = "top" if i <= top_n and not red else ("bottom" if i > len(ranked) - bottom_n else "")
        marked.append({**row, "rank": rank, "mark": mark})
    return marked


def radar(unit: dict, units: list[dict]) -> list[float]:
    """The unit's five dimensions as scores 0–100 against the best unit of the table (100 = as good
    as the best): value / best where more is better, best / value where less is."""
    scores = []
    for _label, key in RADAR:
        values = [u[key] for u in units if u.get(key) is not None and u[key] > 0]
        value = unit.get(key)
        if not values or value is None or value <= 0:
            scores.append(0.0)
            continue
        best = max(values) if DIRECTION[key] == "high" else min(values)
        score = value / best if DIRECTION[key] == "high" else best / value
        scores.append(round(100 * min(score, 1.0), 1))
    return scores
