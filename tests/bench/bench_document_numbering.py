"""document_numbering: 50 concurrent sign-offs of one agency produce 50 distinct consecutive 发文字号.

Fifty drafts are made, then fifty threads (each with its own database connection: on PostgreSQL a
server session each) sign one each at the same moment through `documents.services.sign`, which
takes the serial from the agency code's counter row, locked until the sign-off commits. Measured on
SQLite and, when reachable, PostgreSQL: the wall time of the fifty and whether the numbers came out
distinct and without gaps (1…50).

Target: 50 distinct consecutive numbers on every engine (the time is reported, not a target).
"""

import json
import subprocess
import sys
import tempfile
import threading
import time

SIGNERS = 50


def _run_engine(engine: str) -> dict:
    from tests.bench import harness

    if engine == "postgresql":
        url = harness.fresh_postgres_database("tongban_bench_document_numbering")
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='tongban-bench-')}/bench.sqlite3"
    harness.configure(url)
    from django.db import connections

    from tongban.accounts.actors import Actor
    from tongban.accounts.models import User
    from tongban.accounts.seed import seed_demo
    from tongban.documents import services

    seed_demo()
    reviewer = Actor(User.objects.get(username="reviewer"))
    refs = [
        services.create_draft(
            reviewer,
            doc_type="notice",
            title=f"关于第{i}项工作的通知",
            main_recipients="各科室：",
            body="请遵照执行。",
        ).ref
        for i in range(SIGNERS)
    ]
    connections.close_all()
    numbers: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(SIGNERS + 1)

    def signer(ref):
        try:
            actor = Actor(User.objects.get(username="bureau_head"))
            barrier.wait()
            document = services.sign(actor, ref)
            with lock:
                numbers.append(document.number_serial)
        except Exception as exc:  # reported below
            with lock:
                errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=signer, args=(ref,)) for ref in refs]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    ok = not errors and sorted(numbers) == list(range(1, SIGNERS + 1))
    return {
        "engine": engine,
        "seconds": elapsed,
        "ok": ok,
        "errors": errors[:3],
        "distinct": len(set(numbers)),
    }


def main() -> int:
    from tests.bench import harness

    if len(sys.argv) > 2 and sys.argv[1] == "--engine":
        print(json.dumps(_run_engine(sys.argv[2])))
        return 0
    engines = ["sqlite"]
    if harness.postgres_available():
        engines.append("postgresql")
    else:
        harness.console.print("[yellow]PostgreSQL unreachable: reporting SQLite only[/]")
    results = []
    for engine in engines:
        with harness.console.status(f"document_numbering: {engine}, {SIGNERS} concurrent sign-offs"):
            out = subprocess.run(
                [sys.executable, "-m", "tests.bench.bench_document_numbering", "--engine", engine],
                capture_output=True,
                text=True,
                check=False,
            )
        if out.returncode != 0:
            harness.console.print(out.stderr[-2000:])
            results.append(
                {"engine": engine, "ok": False, "seconds": 0.0, "errors": ["crashed"], "distinct": 0}
            )
            continue
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    for r in results:
        harness.console.print(
            f"{r['engine']}: {r['distinct']} distinct of {SIGNERS}, consecutive 1…{SIGNERS}: {r['ok']}, "
            f"{r['seconds'] * 1000:.0f} ms for all {SIGNERS}"
            + (f"; errors {r['errors']}" if r["errors"] else "")
        )
    passed = all(r["ok"] for r in results)
    slowest = max(r["seconds"] for r in results)
    engines_text = "+".join(r["engine"] for r in results)
    harness.bench_line(
        "document_numbering",
        slowest * 1000,
        "ms",
        None,
        f"{SIGNERS}_distinct_consecutive_on_{engines_text}",
        passed,
    )
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
