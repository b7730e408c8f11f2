"""case_numbers: a day of 100,000 applications in one region, and how many were refused.

Each application takes its case number in a transaction of its own and inserts it into a table
that, as cases_case does, allows each number once; several writers (threads, each with its own
connection: separate server sessions on PostgreSQL) race as concurrent applications do. Ours is
`cases.services._base._new_number`: the region's day counter (cases.store.take_case_serial) and the
day's keyed permutation. The reference, measured in the same run on the same table, is the scheme
it replaces — six random digits — where a number already taken made the insert fail, which was
the 409 of issue 9. Figures: refused applications (collisions) and numbers per second; the ratio
is our rate over the reference's (what queueing on the day's counter row costs).

Target: no collisions in 100,000 numbers, on every engine, and at least 100 numbers/s in one
region on the primary engine (PostgreSQL when reachable). A county's busiest day of 100,000
applications is 1.2 a second on average and ~3 a second if a tenth of them come in one hour; on
PostgreSQL the day's counter row stays locked until each application commits, so one region's
numbers are taken one commit after another, and this is the ceiling that queueing sets.
"""

import json
import subprocess
import sys
import tempfile
import threading
import time

NUMBERS = 100_000
WRITERS = 4
TARGET_RATE = 100.0
REGION = "511602"


def _run_engine(engine: str, numbers: int) -> dict:
    from tests.bench import harness

    if engine == "postgresql":
        url = harness.fresh_postgres_database("tongban_bench_case_numbers")
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='tongban-bench-')}/bench.sqlite3"
    harness.configure(url)

    import datetime as dt
    import secrets
    from zoneinfo import ZoneInfo

    from django.db import IntegrityError, connection, connections, transaction

    from tongban.cases.models import CaseNumberDay
    from tongban.cases.services import _base

    now = dt.datetime(2026, 11, 2, 9, tzinfo=ZoneInfo("Asia/Shanghai"))

    class Department:  # what numbering reads of a department: its region
        region_id = REGION

    with connection.cursor() as cursor:
        for table in ("bench_ours", "bench_random"):
            cursor.execute(f"CREATE TABLE {table} (number varchar(32) PRIMARY KEY)")

    def ours() -> str:
        return _base._new_number(Department, now)

    def random_digits() -> str:  # the scheme before: region + date + six random digits
        return f"{REGION}{now:%Y%m%d}{secrets.randbelow(10**6):06d}"

    def run(make_number, table: str) -> dict:
        per_writer = [numbers // WRITERS + (k < numbers % WRITERS) for k in range(WRITERS)]
        refused = [0] * WRITERS
        errors = []
        sql = f"INSERT INTO {table} (number) VALUES (%s)"

        def writer(k):
            try:
                for _ in range(per_writer[k]):
                    try:
                        with transaction.atomic(), connection.cursor() as cursor:
                            cursor.execute(sql, [make_number()])
                    except IntegrityError:
                        refused[k] += 1  # the application was refused: its number was taken
            except Exception as exc:  # reported below
                errors.append(repr(exc))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=writer, args=(k,)) for k in range(WRITERS)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        if errors:
            raise RuntimeError(errors[:3])
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            stored = cursor.fetchone()[0]
        return {"rate": numbers / elapsed, "refused": sum(refused), "stored": stored, "seconds": elapsed}

    result_ours = run(ours, "bench_ours")
    result_random = run(random_digits, "bench_random")
    counter = CaseNumberDay.objects.get(region=REGION, day=now.date()).last_serial
    return {"engine": engine, "ours": result_ours, "random": result_random, "counter": counter}


def main() -> int:
    from rich.table import Table

    from tests.bench import harness

    numbers = NUMBERS
    if "--numbers" in sys.argv:
        numbers = int(sys.argv[sys.argv.index("--numbers") + 1])
    engines = ["sqlite"]
    if harness.postgres_available():
        engines.insert(0, "postgresql")
    else:
        harness.console.print("[yellow]PostgreSQL unreachable: reporting SQLite only[/]")
    results = {}
    with harness.console.status("case_numbers: measuring") as status:
        for engine in engines:
            status.update(f"case_numbers: {engine}, {WRITERS} writers, {numbers:,} numbers per scheme")
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tests.bench.bench_case_numbers",
                    "--engine",
                    engine,
                    "--numbers",
                    str(numbers),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode != 0:
                harness.console.print(out.stderr[-2000:])
                return 1
            results[engine] = json.loads(out.stdout.strip().splitlines()[-1])
    table = Table(title=f"case numbers: {numbers:,} applications in one region on one day, {WRITERS} writers")
    for col in ("engine", "scheme", "refused (collisions)", "numbers/s", "ratio"):
        table.add_column(col, justify="right")
    for engine, r in results.items():
        table.add_row(
            engine,
            "day counter + keyed permutation",
            f"{r['ours']['refused']:,}",
            f"{r['ours']['rate']:,.0f}",
            f"{r['ours']['rate'] / r['random']['rate']:.2f}",
        )
        table.add_row(
            engine,
            "six random digits (reference)",
            f"{r['random']['refused']:,} ({r['random']['refused'] / numbers:.2%})",
            f"{r['random']['rate']:,.0f}",
            "1.00",
        )
    harness.console.print(table)
    primary = results[engines[0]]
    collisions = sum(r["ours"]["refused"] for r in results.values())
    consistent = all(r["ours"]["stored"] == numbers and r["counter"] == numbers for r in results.values())
    if not consistent:
        harness.console.print(
            "[red]stored numbers or the day's counter disagree with the applications made[/]"
        )
    passed = collisions == 0 and consistent and primary["ours"]["rate"] >= TARGET_RATE
    harness.bench_line(
        "case_numbers",
        primary["ours"]["rate"],
        f"numbers/s({engines[0]},collisions={collisions})",
        primary["ours"]["rate"] / primary["random"]["rate"],
        f"0collisions,>={TARGET_RATE:.0f}/s",
        passed,
    )
    return 0 if passed else 1


if __name__ == "__main__":
    if "--engine" in sys.argv:
        engine = sys.argv[sys.argv.index("--engine") + 1]
        count = int(sys.argv[sys.argv.index("--numbers") + 1]) if "--numbers" in sys.argv else NUMBERS
        print(json.dumps(_run_engine(engine, count)))
    else:
        sys.exit(main())
