"""The KPIs the programme office measures its KPI-bound tasks with (issue 15).

programme never imports insight (ARCHITECTURE.md: nothing imports insight but the web and CLI
layers); it reaches this module through settings.TONGBAN_PROGRAMME_KPI_SOURCE, so the KPI
formulas stay in one place (insight.kpis) and the programme's nightly job reads the same figures
as the efficiency dashboard.
"""

from __future__ import annotations

from . import kpis


def catalogue() -> dict[str, tuple[str, str]]:
    """KPI key → (label, "high" or "low": which side of a target is good)."""
    return {key: (label, direction) for key, label, direction in kpis.KPIS}


def measure(specs: list[dict], *, refresh: bool = True) -> list[dict]:
    """Each spec's KPI over its period and scope, from one snapshot of the case facts.

    A spec: kpi, start, end (dates), and optionally department_path, item, region. Returns, per
    spec, {"value": float or None (nothing counted), "cases": cases closed in the period}.
    """
    from .services import _facts, _facts_table, _unit_costs

    if not specs:
        return []
    snapshot, _count = _facts(refresh=refresh)
    con = _facts_table(snapshot)
    costs = _unit_costs()
    out = []
    for spec in specs:
        rows = kpis.compute(
            con,
            spec["start"],
            spec["end"],
            department_path=spec.get("department_path", ""),
            item=spec.get("item", ""),
            region=spec.get("region", ""),
            costs=costs,
        )
        row = rows[0] if rows else {}
        value = row.get(spec["kpi"])
        out.append(
            {"value": None if value is None else float(value), "cases": int(row.get("closed_cases") or 0)}
        )
    return out
