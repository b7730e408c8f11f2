"""cluster_load: the production shape at 150 % of a service centre's design load, held 10 minutes.

Design load, from the customers' plans (shared/CONTEXT.md): 100,000 requests a day at a centre, a
peak hour of 10 % of the day — 10,000 requests/hour, 2.8/s; 150 % of it is 4.2/s. The brief asks
for 15,000 × 1.5 per hour ≈ 6.25 requests/s, the stricter reading, and that is the rate offered.

Set-up: `tongban cluster up` in a fresh folder (nginx → 2 app servers → PostgreSQL primary with a
streaming replica for analytics; Redis; 2 workers) with the demo city; a system account of 区人社局
with an API token for the data-sharing calls. Load: locust (tests/bench/cluster_users.py), all on
127.0.0.1 through the proxy: portal visitors browsing and searching, citizens following their
cases and applying, the window clerk accepting, a reviewer and a section head working through the
worklist, the supervisor's dashboard and KPI figures, another department's system verifying data
(可用不可见). Every process's resident memory is sampled every 10 s.

Prints p95 per route, the error rate, each process's memory at start and end and its trend (a
least-squares slope after the first two minutes), then the BENCH line: the error rate in %, the
ratio of the rate achieved to the rate offered, PASS when no request failed and no process's
memory grew by more than max(16 MB, 10 %) over the run by its trend.

Options: --seconds (600), --scale (1.0: the rate above), --keep DIR (keep the cluster there).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATE = 100_000 * 0.10 / 3600 * 1.5 * 1.5  # ≈ 6.25 requests/s (see above)

PREPARE = r"""
import json, random, django
django.setup()
from django_otp.plugins.otp_totp.models import TOTPDevice
from tongban.accounts import services as accounts
from tongban.accounts.models import User
from tongban.accounts.seed import CITIZENS, demo_id_number
from tongban.catalog.models import ServiceItem
from tongban.core.authz import SYSTEM
from tongban.core.identifiers import id_check_char

secrets = {d.user.username: d.key for d in TOTPDevice.objects.select_related("user").filter(confirmed=True)}
if not User.objects.filter(username="bench_rsj_system").exists():
    accounts.create_staff(SYSTEM, username="bench_rsj_system", display_name="人社业务系统",
                          department_code="rsj", kind="system", roles=[("reviewer", False)])
token, _t = accounts.create_api_token(SYSTEM, username="bench_rsj_system", name="cluster_load", days=2)
items = list(
    ServiceItem.objects.filter(current__high_frequency=True).values_list("code", flat=True)
)
rng = random.Random(7)
subjects = [demo_id_number(*c[2:5]) for c in CITIZENS]
for _ in range(200):
    born = f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = f"511602{born}{rng.randint(0, 999):03d}"
    subjects.append(first17 + id_check_char(first17))
print(json.dumps({"secrets": secrets, "token": token, "items": items or [""], "subjects": subjects}))
"""


def prepare(cluster) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PREPARE],
        env=cluster.env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def slope(samples: list[tuple[float, int]]) -> float:
    """Least-squares bytes per second."""
    if len(samples) < 3:
        return 0.0
    xs = [t for t, _ in samples]
    ys = [v for _, v in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--warmup", type=float, default=90)
    parser.add_argument("--keep", default="")
    args = parser.parse_args()

    from rich.console import Console

    from tongban.cli.cluster import Cluster, missing_programs, private_bytes

    console = Console()
    missing = missing_programs()
    if missing:
        print(
            f"cluster_load needs {', '.join(missing)} (bash scripts/system-deps.sh cluster)", file=sys.stderr
        )
        print(f"BENCH cluster_load nan % ratio=- target=0 FAIL", flush=True)  # noqa: F541
        return 1
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="tongban-bench-cluster-"))
    cluster = Cluster(folder)
    started = time.monotonic()
    with console.status("cluster_load: bringing the cluster up") as spinner:
        cluster.up(seed=True, say=lambda what: spinner.update(f"cluster_load: starting {what}"))
    console.print(f"cluster up in {time.monotonic() - started:.0f} s at {cluster.url} ({folder})")
    try:
        state = prepare(cluster)
        return run(cluster, state, args, console, private_bytes)
    finally:
        if not args.keep:
            cluster.purge()


def run(cluster, state, args, console, memory_of) -> int:
    import gevent
    from locust.env import Environment

    from tests.bench import cluster_users

    cluster_users.configure(state, args.scale)
    env = Environment(user_classes=cluster_users.USERS, host=cluster.url)
    runner = env.create_local_runner()
    users = sum(cluster_users.COUNTS.values())
    samples: dict[str, list[tuple[float, int]]] = {}

    def sample_memory():
        begun = time.monotonic()
        while True:
            now = time.monotonic() - begun
            for part, pids in cluster.processes().items():
                for pid in pids:
                    samples.setdefault(f"{part} {pid}", []).append((now, memory_of(pid)))
            gevent.sleep(10)

    runner.start(users, spawn_rate=max(1.0, users / 20))  # logins spread over 20 s
    # Warm-up: every process loads what it loads once (search index, DuckDB, templates) before the
    # measured run, whose figures and memory samples start afresh.
    with console.status(f"cluster_load: warming up for {args.warmup:.0f} s"):
        gevent.sleep(args.warmup)
    env.stats.reset_all()
    sampler = gevent.spawn(sample_memory)
    load_started = time.monotonic()
    gevent.spawn_later(args.seconds, runner.quit)
    with console.status(f"cluster_load: {users} users for {args.seconds:.0f} s"):
        runner.greenlet.join()
    elapsed = time.monotonic() - load_started
    sampler.kill()

    total = env.stats.total
    rate = total.num_requests / elapsed if elapsed else 0.0
    error_rate = total.num_failures / total.num_requests if total.num_requests else 1.0
    console.print(
        f"\n{total.num_requests:,} requests in {elapsed:.0f} s = {rate:.2f}/s "
        f"(offered ≈ {TARGET_RATE * args.scale:.2f}/s: 150 % of the design peak); "
        f"{total.num_failures} failed ({error_rate:.3%})"
    )
    print(f"{'route':<44} {'method':<6} {'n':>6} {'fail':>5} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
    for (name, method), entry in sorted(env.stats.entries.items()):
        print(
            f"{name[:44]:<44} {method:<6} {entry.num_requests:>6} {entry.num_failures:>5} "
            f"{entry.get_response_time_percentile(0.5):>7.0f} "
            f"{entry.get_response_time_percentile(0.95):>7.0f} "
            f"{entry.max_response_time:>7.0f}"
        )
    for error in list(env.stats.errors.values())[:10]:
        print(f"  error: {error.method} {error.name}: {error.error} ×{error.occurrences}")

    grew = []
    print("\nPrivate memory (RssAnon) of every process sampled through the whole measured run:")
    print(f"{'process':<30} {'samples':>7} {'start MB':>9} {'end MB':>8} {'trend MB/10 min':>16}")
    for name, series in sorted(samples.items()):
        if len(series) < 6:
            continue  # came and went (a database connection closed after its maximum age)
        trend = slope(series) * 600 / 2**20
        first, last = series[0][1] / 2**20, series[-1][1] / 2**20
        print(f"{name[:30]:<30} {len(series):>7} {first:>9.1f} {last:>8.1f} {trend:>+16.2f}")
        # Growth over the time the process was seen: a database connection lives
        # TONGBAN_DB_CONN_MAX_AGE (300 s) and its backend warms its caches in that time.
        span = series[-1][0] - series[0][0]
        if slope(series) * span / 2**20 > max(16.0, 0.10 * first):
            grew.append(name)
    if grew:
        print(f"memory grew in: {', '.join(grew)}")
    passed = total.num_failures == 0 and total.num_requests > 0 and not grew
    ratio = rate / (TARGET_RATE * args.scale)
    verdict = "PASS" if passed else "FAIL"
    print(
        f"BENCH cluster_load {error_rate * 100:.1f} %errors ratio={ratio:.2f} target=0 {verdict}", flush=True
    )
    return 0 if passed else 1


if __name__ == "__main__":
    os.environ.setdefault("TONGBAN_LOG_LEVEL", "WARNING")
    sys.exit(main())
