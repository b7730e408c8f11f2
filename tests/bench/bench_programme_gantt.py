"""programme_gantt: the Gantt chart's data for a programme of 2,000 tasks, served over the API.

Set-up: a fresh SQLite database with the demo city; a plan of 2,000 tasks in 20 projects (each task
after up to three earlier ones, lags of 0–2 working days, one in ten a milestone) imported through
programme.services.import_plan, as a planner would from XLSX. Then a logged-in planner (password
and second factor) requests GET /api/v1/programme/programmes/<code>/gantt 200 times through
Django's test client — the whole stack in process: middleware, session, authorisation, the
critical path over 2,000 tasks, red/yellow/green, JSON. Reference, in the same run: GET
/api/v1/me (session and middleware only); the ratio is the Gantt's p95 over that floor's.

Target (issue 15): p95 < 200 ms. Option: --engine sqlite|postgresql (default sqlite; PostgreSQL
runs on a scratch database of the bench server, tests.bench.harness, and its BENCH line's unit
names the engine).
"""

import argparse
import io
import random
import statistics
import sys
import tempfile
import time

TASKS = 2_000
REQUESTS = 200
TARGET_MS = 200.0


def plan_workbook() -> bytes:
    from openpyxl import Workbook

    from tongban.programme.transfer import COLUMNS

    rng = random.Random(15)
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS.values()))
    owners = ["scjgj", "xzspj", "rsj", "zjj", "ggb"]
    for i in range(TASKS):
        preds = []
        if i:
            chosen = rng.sample(range(max(0, i - 40), i), k=min(i, rng.randint(1, 3)))
            preds = [f"T{p}" + (f"+{lag}" if (lag := rng.choice((0, 0, 1, 2))) else "") for p in chosen]
        milestone = i % 10 == 9
        row = dict.fromkeys(COLUMNS, "")
        row.update(
            project_code=f"P{i // 100}",
            project_name=f"项目{i // 100}",
            code=f"T{i}",
            name=f"任务{i}",
            kind="里程碑" if milestone else "任务",
            owner_department=owners[i % len(owners)],
            start="2026-03-02",
            duration="" if milestone else rng.randint(1, 15),
            predecessors=", ".join(preds),
            percent=rng.choice((0, 20, 50, 100)),
        )
        sheet.append([row[k] for k in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[94]


def main() -> int:
    from tests.bench import harness

    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    engine = parser.parse_args().engine
    if engine == "postgresql":
        if not harness.postgres_available():
            harness.console.print("[red]PostgreSQL unreachable[/]")
            return 1
        url = harness.fresh_postgres_database("tongban_bench_programme_gantt")
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='tongban-bench-gantt-')}/bench.sqlite3"
    harness.configure(url)

    from django.conf import settings
    from django.test import Client

    from tests.conftest import totp_for
    from tongban.accounts.seed import seed_demo
    from tongban.core.authz import SYSTEM
    from tongban.programme import services

    with harness.console.status("programme_gantt: demo city and a plan of 2,000 tasks"):
        seed_demo()
        services.create_programme(SYSTEM, code="BENCH", name="基准计划", department_code="gov")
        data = plan_workbook()
        t0 = time.perf_counter()
        report = services.import_plan(SYSTEM, "BENCH", data)
        imported = time.perf_counter() - t0
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the in-process client's host
    client = Client()
    client.post("/accounts/login", {"username": "supervisor", "password": settings.TONGBAN_DEMO_PASSWORD})
    client.post("/accounts/mfa/verify", {"otp_token": totp_for("supervisor")})

    def timed(url: str) -> list[float]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        samples = []
        for _ in range(REQUESTS):
            t0 = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
        return samples

    gantt = timed("/api/v1/programme/programmes/BENCH/gantt")
    floor = timed("/api/v1/me")
    body = client.get("/api/v1/programme/programmes/BENCH/gantt").json()
    ok = len(body["tasks"]) == TASKS and body["critical_path"] and len(body["links"]) == report.links
    figure, reference = _p95(gantt), _p95(floor)
    size = len(client.get("/api/v1/programme/programmes/BENCH/gantt").content) / 1024
    harness.console.print(
        f"{engine}: import of {TASKS:,} tasks: {imported:.1f} s; {report.links:,} links, "
        f"critical path {len(body['critical_path'])} tasks; Gantt p50 {statistics.median(gantt):.1f} ms, "
        f"p95 {figure:.1f} ms; /api/v1/me p95 {reference:.1f} ms; payload {size:.0f} KiB"
    )
    passed = bool(ok) and figure < TARGET_MS
    unit = "ms_p95_2000_tasks" + ("_postgresql" if engine == "postgresql" else "")
    harness.bench_line("programme_gantt", figure, unit, figure / reference, f"<{TARGET_MS:.0f}ms", passed)
    if engine == "postgresql":
        from django.db import connections

        connections.close_all()
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
