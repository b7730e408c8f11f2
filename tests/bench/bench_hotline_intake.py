"""hotline_intake: work orders per second through the intake service, with classification and the
duplicate check.

Each order is what the API or the operator console does: the router suggests a category for the raw
message (`services.suggest_route`), then `services.create_order` records it in one use case — the
order number, the order row, the routing example, its events, the audit journal's hash chain, the
LSH band keys and the duplicate and cluster check against the open orders (20,000 loaded before, as
in a busy week), with duplicate proposals and hotspot warnings when they arise. One process, one
order at a time. Messages are real ones from the shared data (replies.csv, messages_votes.csv),
retold at the demo city's estates, so some are duplicates of open orders.

Target: ≥ 300 orders/s on SQLite (PostgreSQL reported).
"""

import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 300.0
PRELOADED = 20_000
ORDERS = 1500


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
    messages = [variant(rng, rng.choice(sources)) for _ in range(ORDERS + 50)]

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

    for text in messages[:50]:  # warm-up: jieba, the model, the database's caches
        one(text)
    started = time.perf_counter()
    for text in messages[50:]:
        one(text)
    elapsed = time.perf_counter() - started
    return {
        "engine": engine,
        "rate": ORDERS / elapsed,
        "orders": ORDERS,
        "total": WorkOrder.objects.count(),
        "proposals": DuplicateProposal.objects.count(),
        "warnings": HotspotWarning.objects.count(),
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
            f"{engine}: {r['orders']} orders at {r['rate']:.0f} orders/s (classified, checked for "
            f"duplicates against {PRELOADED:,} preloaded); {r['proposals']} duplicate proposals, "
            f"{r['warnings']} hotspot warnings"
        )
    rate = results["sqlite"]["rate"]
    harness.bench_line("hotline_intake", rate, "orders/s", rate / TARGET, ">=300/s", rate >= TARGET)
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    if "--engine" in sys.argv:
        print(json.dumps(measure(sys.argv[sys.argv.index("--engine") + 1])))
        sys.exit(0)
    sys.exit(main())
