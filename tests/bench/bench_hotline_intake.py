"""hotline_intake: work orders per second through the intake service, with classification and the
duplicate check.

The figure is the bulk intake a system's submissions go through (`services.receive_many`, behind
POST /api/v1/hotline/orders/batch), in batches of 100: the router suggests a category for each raw
message and the confident suggestion is taken, each order is checked against the open orders (20,000
loaded before, as in a busy week) and the batch's earlier orders, and each keeps the records of
one-by-one intake — its number, row, routing example, events, its own entry in the audit journal's
hash chain, LSH band keys, duplicate proposals and hotspot warnings — written in bulk in one
transaction per batch.

The reference, measured in the same run on the same database, is one order at a time the way the
operator console does it: `services.suggest_route`, then `services.create_order` in its own use
case. The ratio is the bulk rate over the one-by-one rate. One process. Messages are real ones from
the shared data (replies.csv, messages_votes.csv), retold at the demo city's estates, so some are
duplicates of open orders. The wall-clock figure is the one judged; CPU time and the load average
are printed beside it, as the machine is shared.

Target: ≥ 300 orders/s on SQLite (PostgreSQL reported).
"""

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 300.0
PRELOADED = 20_000
ORDERS = 1500  # through bulk intake
REFERENCE_ORDERS = 300  # one by one
BATCH = 100


def measure(engine: str) -> dict:
    from tests.bench import harness

    if engine == "postgresql":
        url = harness.fresh_postgres_database("tongban_bench_hotline_intake")
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='tongban-bench-')}/bench.sqlite3"
    harness.configure(url)
    import csv

    from django.conf import settings

    from tests.bench.hotline_orders import bulk_open_orders, variant
    from tongban.accounts.actors import Actor
    from tongban.accounts.models import User
    from tongban.accounts.seed import seed_demo
    from tongban.hotline import router, services
    from tongban.hotline.models import DuplicateProposal, HotspotWarning, WorkOrder

    seed_demo()
    data = Path(settings.DATA_DIR) / "hotline"
    operator = Actor(User.objects.get(username="operator"))
    _ = operator.grants
    with (data / "taxonomy.csv").open(encoding="utf-8-sig", newline="") as handle:
        services.import_taxonomy(operator, [list(r.values()) for r in csv.DictReader(handle)])
    texts, labels = router.read_labelled(data / "labeled_messages_segmented.csv")
    router.save(router.train(texts, labels, folds=0))
    sources = bulk_open_orders(PRELOADED, data)
    rng = random.Random(11)
    regions = ["511602", "511603", "511621", "511622", "511623", "511681"]
    messages = [variant(rng, rng.choice(sources)) for _ in range(50 + REFERENCE_ORDERS + ORDERS)]

    def one(text: str) -> None:
        suggestion = services.suggest_route(operator, text)
        services.create_order(
            operator,
            channel="api",
            text=text,
            order_type="complaint",
            anonymous=True,
            region_code=rng.choice(regions),
            address="示例路1号",
            category=suggestion.category,
            suggested_category=suggestion.category,
            suggestion_confidence=suggestion.confidence or None,
        )

    def batch(texts: list[str]) -> None:
        services.receive_many(
            operator,
            [
                {
                    "text": text,
                    "order_type": "complaint",
                    "anonymous": True,
                    "region_code": rng.choice(regions),
                    "address": "示例路1号",
                }
                for text in texts
            ],
            accept_suggestions=True,
        )

    for text in messages[:50]:  # warm-up: jieba, the model, the database's caches
        one(text)
    router._segment.cache_clear()  # every message segmented afresh, as live ones are
    router.normalise.cache_clear()
    wall, cpu = time.perf_counter(), time.process_time()
    for text in messages[50 : 50 + REFERENCE_ORDERS]:
        one(text)
    reference = REFERENCE_ORDERS / (time.perf_counter() - wall)
    reference_cpu = REFERENCE_ORDERS / (time.process_time() - cpu)
    bulk = messages[50 + REFERENCE_ORDERS :]
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(bulk), BATCH):
        batch(bulk[start : start + BATCH])
    rate = len(bulk) / (time.perf_counter() - wall)
    rate_cpu = len(bulk) / (time.process_time() - cpu)
    return {
        "engine": engine,
        "rate": rate,
        "rate_cpu": rate_cpu,
        "reference": reference,
        "reference_cpu": reference_cpu,
        "orders": len(bulk),
        "reference_orders": REFERENCE_ORDERS,
        "total": WorkOrder.objects.count(),
        "routed": WorkOrder.objects.exclude(category=None).count(),
        "proposals": DuplicateProposal.objects.count(),
        "warnings": HotspotWarning.objects.count(),
        "load": os.getloadavg()[0],
    }


def main() -> int:
    from tests.bench import harness

    engines = ["sqlite"] + (["postgresql"] if harness.postgres_available() else [])
    results = {}
    for engine in engines:
        with harness.console.status(f"hotline_intake on {engine}"):
            out = subprocess.run(
                [sys.executable, "-m", "tests.bench.bench_hotline_intake", "--engine", engine],
                capture_output=True,
                text=True,
                check=False,
            )
        if out.returncode != 0:
            harness.console.print(out.stderr[-3000:])
            return 1
        results[engine] = r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{engine}: bulk intake {r['orders']} orders at {r['rate']:.0f} orders/s "
            f"(CPU {r['rate_cpu']:.0f}/s); one by one (reference) {r['reference_orders']} orders at "
            f"{r['reference']:.0f} orders/s (CPU {r['reference_cpu']:.0f}/s); classified and checked for "
            f"duplicates against {PRELOADED:,} preloaded; {r['routed']:,} of {r['total']:,} routed, "
            f"{r['proposals']} duplicate proposals, {r['warnings']} hotspot warnings "
            f"(load average {r['load']:.1f})"
        )
    primary = results["sqlite"]
    rate = primary["rate"]
    ratio = rate / primary["reference"]
    harness.bench_line("hotline_intake", rate, "orders/s", ratio, ">=300/s", rate >= TARGET)
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    if "--engine" in sys.argv:
        print(json.dumps(measure(sys.argv[sys.argv.index("--engine") + 1])))
        sys.exit(0)
    sys.exit(main())
