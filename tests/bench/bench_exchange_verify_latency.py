"""exchange_verify_latency: verify-only queries (可用不可见) under 50 concurrent clients, 1,000,000 persons.

Set-up: the demo city and its data-sharing platform (`exchange.demo`), then the population
resource (公安人口库) replaced by 1,000,000 generated person records through the provider import
(normalisation, blind index, SM4-encrypted record data, quality flags — as a real import). A
system account of 区人社局 (which holds an approved grant on the population resource) gets an API
token. Then `tongban serve --web-worker sync` (gunicorn, one process per core) answers 50
concurrent clients over HTTP (5 client processes × 10 threads), each sending
POST /api/v1/exchange/verify back to back with a bearer token: "is this person registered?" and
"alive and registered in district X?" for random people of the million (2 % unknown numbers).
Every call is checked against the grant and the negative list and written to the call log and the
audit journal, as in production.

Target (issue 4): p99 < 20 ms on PostgreSQL; SQLite is reported beside it. Reference, measured in
the same run: the same 50 clients on GET /api/v1/me (token auth and middleware only) — the floor
of the stack on this machine; the ratio says how far a verify call is above it. With closed-loop
clients (no think time) the latency also holds the queue: by Little's law p50 ≈ 50 / throughput,
so the figures are printed with the throughput. A second, open-loop run offers a fixed rate
(--rate, default 200 calls/s, Poisson arrivals over the same 50 connections) — a busy province's
peak — and reports its p99 too.

Options: --engine sqlite|postgresql, --persons N, --seconds S, --keep DIR (keep the database — the
SQLite file in DIR, or the PostgreSQL database tongban_bench_exchange — with ready.json).
"""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.bench.bench_worklist_latency import _free_port, _percentile, serve

TARGET_MS = 20.0
CLIENTS = 50
CLIENT_PROCESSES = 5
CONSUMER = "rsj"  # holds an approved grant on population (status, region, name) in the demo


def build(engine: str, persons: int, keep: str | None) -> dict:
    from tests.bench import harness

    if engine == "postgresql":
        reuse = bool(keep) and (Path(keep) / "ready.json").exists()
        url = None if reuse else harness.fresh_postgres_database("tongban_bench_exchange")
    else:
        folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="tongban-bench-"))
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / 'exchange.sqlite3'}"
        reuse = (folder / "ready.json").exists()
    if reuse:
        return json.loads((Path(keep) / "ready.json").read_text())
    harness.configure(url, embedded_queue=True)
    state = _populate(persons, engine)
    state["env"] = {
        k: os.environ[k]
        for k in ("DATABASE_URL", "TONGBAN_VAR_DIR", "TONGBAN_SECRET_KEY", "TONGBAN_MASTER_KEY")
    }
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / "ready.json").write_text(json.dumps(state))
    return state


def _populate(persons: int, engine: str) -> dict:
    from django.db import connection

    from tests.bench import harness
    from tongban.accounts import services as account_services
    from tongban.accounts.seed import seed_demo
    from tongban.core.authz import SYSTEM
    from tongban.exchange import demo, services
    from tongban.exchange.models import Record

    console = harness.console
    with console.status("exchange_verify_latency: demo city and data-sharing platform"):
        seed_demo()
        demo.load_exchange()
    with console.status(f"exchange_verify_latency: generating {persons:,} people"):
        demo.PERSONS = persons
        people = demo._persons(random.Random(7))
        rows = demo._population_rows(random.Random(8), people)
    started = time.perf_counter()
    with console.status(f"exchange_verify_latency: importing {len(rows):,} population rows"):
        report = services.import_rows(SYSTEM, "population", rows, source="bench")
    took = time.perf_counter() - started
    console.print(f"imported {report.imported:,} records ({report.dirty:,} dirty) in {took:.0f} s")
    del rows
    if engine == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) exchange_record")
    account_services.create_staff(
        SYSTEM,
        username="bench_rsj_system",
        display_name="人社业务系统",
        department_code=CONSUMER,
        kind="system",
        roles=[("reviewer", False)],
    )
    token, _t = account_services.create_api_token(SYSTEM, username="bench_rsj_system", name="bench", days=30)
    rng = random.Random(9)
    sample = [p["id"] for p in rng.sample(people, min(20000, len(people)))]
    regions = sorted({p["region"] for p in people})
    return {
        "token": token,
        "subjects": sample,
        "regions": regions,
        "records": Record.objects.filter(resource__code="population").count(),
    }


def _unknown(rng: random.Random) -> str:
    from tongban.core.identifiers import id_check_char

    born = f"{rng.randrange(1950, 2000)}0{rng.randrange(1, 10)}1{rng.randrange(0, 10)}"
    first17 = f"110105{born}{rng.randrange(100, 999)}"  # 北京朝阳: nobody of the demo's population
    return first17 + id_check_char(first17)


KINDS = ("verify", "floor")


def load(port: int, state: dict, seconds: float, *, floor: bool = False, rate: float = 0.0) -> dict:
    import multiprocessing

    per_process = CLIENTS // CLIENT_PROCESSES
    with multiprocessing.get_context("fork").Pool(CLIENT_PROCESSES) as pool:
        parts = pool.starmap(
            _client_process,
            [
                (
                    port,
                    state,
                    seconds,
                    [p * per_process + i for i in range(per_process)],
                    floor,
                    rate / CLIENTS,
                )
                for p in range(CLIENT_PROCESSES)
            ],
        )
    latencies = {kind: [] for kind in KINDS}
    errors, answers, count = [], {True: 0, False: 0, None: 0}, 0
    for part in parts:
        for kind in latencies:
            latencies[kind].extend(part["latencies"][kind])
        errors.extend(part["errors"])
        for key, n in part["answers"].items():
            answers[{"true": True, "false": False, "none": None}[key]] += n
        count += part["count"]
    return {"latencies": latencies, "errors": errors[:10], "error_count": len(errors), "answers": answers}


def _client_process(port, state, seconds, indexes, floor, per_client_rate) -> dict:
    latencies = {kind: [] for kind in KINDS}
    errors = []
    answers = {"true": 0, "false": 0, "none": 0}
    stop = time.monotonic() + seconds
    warm = time.monotonic() + min(3.0, seconds / 5)
    lock = threading.Lock()
    headers = {
        "Authorization": f"Bearer {state['token']}",
        "Accept": "application/json",
        "Content-Type": "application/json",
    }

    def client(index: int):
        rng = random.Random(1000 + index)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, my_answers, my_errors = [], {"true": 0, "false": 0, "none": 0}, []
        next_at = time.monotonic()
        while time.monotonic() < stop:
            if per_client_rate:
                next_at += rng.expovariate(per_client_rate)
                pause = next_at - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            if floor:
                method, path, body = "GET", "/api/v1/me", None
            else:
                subject = rng.choice(state["subjects"]) if rng.random() >= 0.02 else _unknown(rng)
                if rng.random() < 0.5:
                    payload = {"resource": "population", "predicate": "registered"}
                else:
                    payload = {
                        "resource": "population",
                        "predicate": "alive_in_district",
                        "params": {"district": rng.choice(state["regions"])},
                    }
                payload.update(subject=subject, purpose="社保待遇资格认证")
                method, path, body = "POST", "/api/v1/exchange/verify", json.dumps(payload)
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                content = response.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                content = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            if response.status != 200:
                my_errors.append((path, response.status, content[:200]))
                continue
            if not floor:
                answer = json.loads(content)["answer"]
                my_answers[{True: "true", False: "false", None: "none"}[answer]] += 1
            if time.monotonic() > warm:
                mine.append(elapsed)
        with lock:
            latencies["floor" if floor else "verify"].extend(mine)
            errors.extend(my_errors)
            for key, n in my_answers.items():
                answers[key] += n

    threads = [threading.Thread(target=client, args=(i,)) for i in indexes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"latencies": latencies, "errors": errors, "answers": answers, "count": len(latencies["verify"])}


def _summary(values: list[float], seconds: float) -> dict:
    return {
        "n": len(values),
        "per_s": len(values) / seconds if seconds else 0.0,
        "p50": _percentile(values, 0.50),
        "p95": _percentile(values, 0.95),
        "p99": _percentile(values, 0.99),
        "mean": statistics.fmean(values) if values else float("nan"),
    }


def run_engine(engine: str, persons: int, seconds: float, rate: float, keep: str | None) -> dict:
    state = build(engine, persons, keep)
    port = _free_port()
    server = serve(state["env"], port)
    measured = max(1.0, seconds - min(3.0, seconds / 5))
    try:
        closed = load(port, state, seconds)
        reference = load(port, state, max(5.0, seconds / 3), floor=True)
        opened = load(port, state, seconds, rate=rate)
    finally:
        server.terminate()
        server.wait(timeout=30)
    floor_seconds = max(1.0, max(5.0, seconds / 3) - 3.0)
    return {
        "engine": engine,
        "records": state["records"],
        "closed": _summary(closed["latencies"]["verify"], measured),
        "floor": _summary(reference["latencies"]["floor"], floor_seconds),
        "open": _summary(opened["latencies"]["verify"], measured),
        "rate": rate,
        "answers": closed["answers"],
        "errors": closed["error_count"] + reference["error_count"] + opened["error_count"],
        "error_sample": closed["errors"] + opened["errors"],
    }


def main() -> int:
    from rich.table import Table

    from tests.bench import harness

    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgresql"])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--keep")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:  # one engine in this process (Django is configured once per process)
        print(
            "RESULT " + json.dumps(run_engine(args.engine, args.persons, args.seconds, args.rate, args.keep))
        )
        return 0
    engines = [args.engine] if args.engine else ["postgresql", "sqlite"]
    if "postgresql" in engines and not harness.postgres_available():
        harness.console.print("[yellow]PostgreSQL is not reachable: exchange_verify_latency on SQLite only")
        engines = [e for e in engines if e != "postgresql"] or ["sqlite"]
    results = {}
    for engine in engines:
        command = [
            sys.executable,
            "-m",
            "tests.bench.bench_exchange_verify_latency",
            "--json",
            "--engine",
            engine,
        ]
        command += ["--persons", str(args.persons), "--seconds", str(args.seconds), "--rate", str(args.rate)]
        if args.keep:
            command += ["--keep", str(Path(args.keep) / engine)]
        out = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
        line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            print(out.stdout[-3000:])
            return 1
        results[engine] = json.loads(line[len("RESULT ") :])

    table = Table(title=f"exchange_verify_latency: {CLIENTS} clients, verify-only, ms")
    for col in ("engine", "records", "load", "calls/s", "p50", "p95", "p99", "errors"):
        table.add_column(col, justify="right")
    for engine, r in results.items():
        for label, key in (
            ("closed loop", "closed"),
            (f"open {r['rate']:.0f}/s", "open"),
            ("floor /me", "floor"),
        ):
            s = r[key]
            table.add_row(
                engine,
                f"{r['records']:,}",
                label,
                f"{s['per_s']:.0f}",
                f"{s['p50']:.1f}",
                f"{s['p95']:.1f}",
                f"{s['p99']:.1f}",
                str(r["errors"]) if key == "closed" else "",
            )
        harness.console.print(f"{engine}: answers {r['answers']}; errors sample {r['error_sample'][:3]}")
    harness.console.print(table)
    primary = results.get("postgresql") or results[engines[0]]
    p99 = primary["closed"]["p99"]
    ratio = p99 / primary["floor"]["p99"] if primary["floor"]["p99"] else None
    passed = primary["engine"] == "postgresql" and p99 < TARGET_MS and primary["errors"] == 0
    harness.bench_line(
        "exchange_verify_latency",
        p99,
        f"ms_p99({primary['engine']},{CLIENTS}clients)",
        ratio,
        f"p99<{TARGET_MS:.0f}ms",
        passed,
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
