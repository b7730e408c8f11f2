"""audit_append: audited transactions per second with concurrent writers, and what the chain costs.

Each writer thread runs transactions that append one journal entry through `audit.audited`
(head-row lock, HMAC-SM3 chain). The reference, measured in the same run on the same table,
is the same row written with the same kind of raw INSERT but without the chain (no head lock,
no MAC): the ratio is what tamper-evidence costs. The figure is the PostgreSQL rate with 8
writers (SQLite is reported beside it). After the run the whole journal is verified, and its
speed is reported too.

Target: at least 500 audited transactions/s on PostgreSQL with 8 writers, several times a
province-wide centre's peak (100,000 requests a day is ~1.2/s on average).
"""

import itertools
import json
import subprocess
import sys
import threading
import time

WRITERS = 8
PER_WRITER = 300
TARGET_RATE = 500.0


def _run_engine(engine: str) -> dict:
    from tests.bench import harness

    if engine == "postgresql":
        url = harness.fresh_postgres_database("tongban_bench_audit")
    else:
        import tempfile

        url = f"sqlite:///{tempfile.mkdtemp(prefix='tongban-bench-')}/bench.sqlite3"
    harness.configure(url)

    from django.db import connection, connections, transaction
    from django.utils import timezone

    from tongban.core import audit

    def run(worker) -> float:
        errors = []

        def body(k):
            try:
                for i in range(PER_WRITER):
                    worker(k, i)
            except Exception as exc:  # reported below
                errors.append(repr(exc))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=body, args=(k,)) for k in range(WRITERS)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        if errors:
            raise RuntimeError(errors[:3])
        return WRITERS * PER_WRITER / elapsed

    def chained(k, i):
        with audit.audited(
            "bench.append", object_type="bench", object_ref=f"{k}-{i}", detail={"k": k, "i": i}
        ):
            pass

    counter = itertools.count(10**12)
    lock = threading.Lock()

    # The reference writes the same row with the same kind of raw INSERT, minus the chain.
    detail_placeholder = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    plain_sql = (
        "INSERT INTO core_auditentry (chain, seq, occurred_at, actor_id, actor_label, action, object_type, "
        "object_ref, department_code, outcome, request_id, client_ip, detail, key_id, prev_mac, entry_mac) "
        f"VALUES (%s, %s, %s, NULL, %s, %s, %s, %s, '', %s, %s, '', {detail_placeholder}, %s, %s, %s)"
    )

    def plain(k, i):
        with lock:
            seq = next(counter)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                plain_sql,
                [
                    99,
                    seq,
                    timezone.now(),
                    "system",
                    "bench.plain",
                    "bench",
                    f"{k}-{i}",
                    "success",
                    "",
                    json.dumps({"k": k, "i": i}),
                    "-",
                    "-",
                    "-",
                ],
            )

    run(chained)  # warm-up: connections, caches
    chained_rate = run(chained)
    start = time.perf_counter()
    result = audit.verify()
    verify_rate = result.checked / (time.perf_counter() - start)
    assert result.ok, result.message
    plain_rate = run(plain)
    return {
        "engine": engine,
        "chained": chained_rate,
        "plain": plain_rate,
        "verify": verify_rate,
        "entries": result.checked,
    }


def main() -> int:
    from rich.table import Table

    from tests.bench import harness

    engines = ["sqlite"]
    if harness.postgres_available():
        engines.insert(0, "postgresql")
    else:
        harness.console.print("[yellow]PostgreSQL unreachable: reporting SQLite only[/]")
    results = {}
    with harness.console.status("audit_append: measuring") as status:
        for engine in engines:
            status.update(f"audit_append: {engine}, {WRITERS} writers × {PER_WRITER} transactions")
            out = subprocess.run(
                [sys.executable, "-m", "tests.bench.bench_audit_append", "--engine", engine],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode != 0:
                harness.console.print(out.stderr[-2000:])
                return 1
            results[engine] = json.loads(out.stdout.strip().splitlines()[-1])
    table = Table(title=f"audit journal append, {WRITERS} concurrent writers")
    for col in ("engine", "chained tx/s", "plain insert tx/s (reference)", "ratio", "verify entries/s"):
        table.add_column(col, justify="right")
    for engine, r in results.items():
        table.add_row(
            engine,
            f"{r['chained']:.0f}",
            f"{r['plain']:.0f}",
            f"{r['chained'] / r['plain']:.2f}",
            f"{r['verify']:.0f}",
        )
    harness.console.print(table)
    primary = results[engines[0]]
    ratio = primary["chained"] / primary["plain"]
    passed = engines[0] == "postgresql" and primary["chained"] >= TARGET_RATE
    harness.bench_line(
        "audit_append",
        primary["chained"],
        f"tx/s({engines[0]})",
        ratio,
        f">={TARGET_RATE:.0f}tx/s(pg)",
        passed,
    )
    return 0 if passed else 1


if __name__ == "__main__":
    if "--engine" in sys.argv:
        print(json.dumps(_run_engine(sys.argv[sys.argv.index("--engine") + 1])))
    else:
        sys.exit(main())
