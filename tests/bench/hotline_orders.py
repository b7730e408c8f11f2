"""Open work orders in bulk for the hotline benchmarks: real message texts (replies.csv,
messages_votes.csv and the labelled file of the shared data), each placed at one of a few hundred
estates in the demo city's regions and received over the last 30 days, indexed as intake indexes
them (`hotline.similar`). Written with bulk inserts: the set-up is not what is measured."""

import csv
import datetime as dt
import random
from pathlib import Path

import numpy as np

ESTATES = [
    f"{a}{b}小区"
    for a in ("幸福", "阳光", "金桥", "锦绣", "翠湖", "龙湾", "书香", "和平")
    for b in "东南西北中"
]


def source_texts(data: Path) -> list[str]:
    texts = []
    for name, columns in (
        ("replies.csv", ("留言主题", "留言详情")),
        ("messages_votes.csv", ("留言主题", "留言详情")),
    ):
        with (data / name).open(encoding="utf-8-sig", newline="") as handle:
            texts += [f"{r[columns[0]]}\n{r[columns[1]]}".strip() for r in csv.DictReader(handle)]
    with (data / "labeled_messages_segmented.csv").open(encoding="utf-8-sig", newline="") as handle:
        texts += [r["分词文本"] for r in csv.DictReader(handle)]
    return [t for t in texts if len(t) > 10]


def variant(rng: random.Random, text: str) -> str:
    """Another citizen's telling of a message: an estate named, part of the opening kept, a tail."""
    cut = rng.randint(60, 400)
    tail = rng.choice(("", "，请尽快处理", "，希望有关部门重视"))
    return f"{rng.choice(ESTATES)}{rng.randint(1, 30)}栋：{text[:cut]}{tail}"


def bulk_open_orders(n: int, data: Path, *, seed: int = 13) -> list[str]:
    """n open orders (status registered) over the demo regions and the last 30 days; returns the
    source texts used, for probes."""
    from django.db import transaction
    from django.utils import timezone

    from tongban.accounts.models import Region
    from tongban.hotline import similar
    from tongban.hotline.models import OrderBand, WorkOrder

    rng = random.Random(seed)
    texts = source_texts(data)
    regions = list(Region.objects.filter(code__startswith="5116").exclude(code="511600"))
    now = timezone.now()
    batch = 2000
    for start in range(0, n, batch):
        orders = []
        for i in range(start, min(n, start + batch)):
            at = now - dt.timedelta(seconds=rng.randint(60, 30 * 86400))
            text = variant(rng, rng.choice(texts))
            orders.append(
                WorkOrder(
                    number=f"B{i:010d}",
                    channel="api",
                    order_type="complaint",
                    urgency="normal",
                    anonymous=True,
                    text=text,
                    signature=similar.to_bytes(similar.signature(similar.text_of(text))),
                    region=rng.choice(regions),
                    received_at=at,
                    first_contact_due=at + dt.timedelta(hours=24),
                    resolution_due=at + dt.timedelta(days=7),
                    cluster=f"B{i:010d}",
                )
            )
        with transaction.atomic():
            WorkOrder.objects.bulk_create(orders, batch_size=500)
            saved = WorkOrder.objects.filter(number__in=[o.number for o in orders]).values_list(
                "pk", "signature", "received_at"
            )
            bands = [
                OrderBand(key=k, order_id=pk, received_at=at)
                for pk, sig, at in saved
                for k in set(similar.keys_of(np.frombuffer(bytes(sig), dtype="<u4")))
            ]
            OrderBand.objects.bulk_create(bands, batch_size=5000)
    return texts
