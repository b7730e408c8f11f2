"""kpi_speed: every KPI of DOMAIN.md over 1,000,000 cases, in DuckDB over the case facts.

The facts (insight.facts' columns) of a million cases are generated with the shapes of the demo
district: 12 departments, 40 items, the channel mix, processing times, ratings, 免提交 counts
(deterministic, seeded). Timed: the KPIs for the whole year, once for the region and once per
department (the league table), from the in-memory table — what the dashboard asks for. Reference,
in the same run: the same figures with pandas (group-bys and masks over the same rows, loaded in
memory beforehand), checked to agree.

Target (issue 5): all KPIs over 1 million cases in under 1 s.
"""

import datetime as dt
import statistics
import sys
import time

CASES = 1_000_000
TARGET_S = 1.0
ROUNDS = 5


def main() -> int:
    import os
    import secrets

    from rich.console import Console
    from rich.table import Table

    os.environ.setdefault("TONGBAN_SECRET_KEY", secrets.token_hex(32))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django

    django.setup()  # settings only (the time zone of the periods); no database is touched

    from tests.bench import harness
    from tongban.insight import eventlog, facts, kpis

    console = Console()
    con = eventlog.connect()
    types = ", ".join(f"{c} {facts.TYPES.get(c, 'VARCHAR')}" for c in facts.COLUMNS)
    con.execute(f"CREATE TABLE facts ({types})")
    with console.status(f"kpi_speed: generating {CASES:,} cases"):
        con.execute(
            f"""
            INSERT INTO facts
            SELECT 'C' || i, 'd' || (i % 12), '/gov/d' || (i % 12) || '/',
                   '5116' || lpad(CAST(2 + i % 6 AS VARCHAR), 2, '0'),
                   'item' || (i % 40),
                   CASE WHEN hash(i, 1) % 10 < 7 THEN 'online' ELSE 'window' END,
                   CASE WHEN hash(i, 2) % 10 < 7 THEN 'comprehensive' ELSE 'specialised' END,
                   CASE WHEN hash(i, 3) % 20 = 0 THEN 'in_progress' ELSE 'issued' END, 'approve',
                   TIMESTAMP '2026-01-01' + to_seconds(CAST(hash(i, 4) % 31536000 AS BIGINT)),
                   TIMESTAMP '2026-01-01' + to_seconds(CAST(hash(i, 4) % 31536000 AS BIGINT) + 3600),
                   TIMESTAMP '2026-01-01'
                       + to_seconds(CAST(hash(i, 4) % 31536000 AS BIGINT) + 86400 * (hash(i, 5) % 9)),
                   3 + hash(i, 6) % 5, 10, 3 + hash(i, 6) % 5,
                   (hash(i, 5) % 9) * 0.7, hash(i, 5) % 9 <= 5, CAST(hash(i, 7) % 3 AS INTEGER) - 1 + 1,
                   false, i % 40 < 6, i % 40 < 6 AND hash(i, 8) % 10 < 8,
                   4, CAST(hash(i, 9) % 5 AS INTEGER), CAST(hash(i, 10) % 2 AS INTEGER), 2,
                   (hash(i, 11) % 90) * 1.0,
                   CASE WHEN hash(i, 12) % 3 = 0 THEN CAST(1 + hash(i, 13) % 5 AS INTEGER) END,
                   CASE WHEN hash(i, 12) % 3 = 0 AND 1 + hash(i, 13) % 5 <= 2 THEN hash(i, 14) % 4 > 0 END
            FROM range({CASES}) t(i)
            """
        )
        con.execute(
            "UPDATE facts SET closed_at = NULL, processing_days = NULL, on_time = NULL "
            "WHERE status <> 'issued'"
        )
    start, end = dt.date(2026, 1, 1), dt.date(2026, 12, 31)

    def ours():
        region = kpis.compute(con, start, end)
        departments = kpis.compute(con, start, end, by="department")
        return region, departments

    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        region, departments = ours()
        times.append(time.perf_counter() - started)
    figure = statistics.median(times)

    with console.status("kpi_speed: the same figures with pandas"):
        frame = con.execute("SELECT * FROM facts").df()
    started = time.perf_counter()
    since, until = kpis._bounds(start, end)
    closed = frame[(frame.closed_at >= since) & (frame.closed_at < until)]
    submitted = frame[(frame.submitted_at >= since) & (frame.submitted_at < until)]
    reference = {
        "on_time_rate": closed.on_time.sum() / closed.on_time.notna().sum(),
        "mean_processing_days": closed.processing_days.mean(),
        "median_processing_days": closed.processing_days.median(),
        "exemption_rate": submitted.materials_exempted.sum() / submitted.materials_required.sum(),
        "zero_visit_rate": (closed.visits == 0).mean(),
    }
    per_department = closed.groupby("department").processing_days.mean()
    theirs = time.perf_counter() - started
    agree = all(abs(float(region[0][k]) - float(v)) < 1e-9 for k, v in reference.items()) and all(
        abs(float(r["mean_processing_days"]) - float(per_department[r["unit"]])) < 1e-9 for r in departments
    )

    table = Table(
        title=f"kpi_speed: {CASES:,} cases, {len(kpis.KPIS)} KPIs, region + {len(departments)} departments"
    )
    for col in ("", "seconds", "figures"):
        table.add_column(col, justify="right")
    table.add_row("tongban (DuckDB), all KPIs", f"{figure:.3f}", f"{len(kpis.KPIS) * (1 + len(departments))}")
    table.add_row("pandas (reference), 5 KPIs + 1 by department", f"{theirs:.3f}", f"{5 + len(departments)}")
    console.print(table)
    console.print(
        f"figures agree with pandas: {agree}; on-time {region[0]['on_time_rate']:.3f}, "
        f"mean processing {region[0]['mean_processing_days']:.2f} working days"
    )
    passed = agree and figure < TARGET_S
    harness.bench_line(
        "kpi_speed",
        figure,
        "s_all_kpis_1M_cases",
        figure / theirs if theirs else None,
        f"<{TARGET_S:.0f}s",
        passed,
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
