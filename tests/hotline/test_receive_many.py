"""Bulk intake (`services.receive_many`, POST /api/v1/hotline/orders/batch): a batch keeps the
records one-by-one intake keeps, finds duplicates among its own orders and the indexed ones, routes
the orders, and is refused whole when one order is bad (issue 13)."""

import random

import pytest

from tongban.core import events
from tongban.core.errors import InvalidInput, NotPermitted
from tongban.core.models import AuditEntry
from tongban.hotline import router, services
from tongban.hotline.models import (
    DuplicateProposal,
    HotspotWarning,
    OrderBand,
    TrainingExample,
    WorkOrder,
)

from ..conftest import actor
from .test_api_demo import logged_in, post
from .test_duplicates import LAMP, LAMP_AGAIN, OTHER, call
from .test_router import VOCAB, message

pytestmark = pytest.mark.django_db

PLACE = "广安区幸福小区3号楼"


def item(text: str, **overrides) -> dict:
    return {"text": text, "order_type": "complaint", "anonymous": True, "address": PLACE} | overrides


def activities(order) -> list[str]:
    return [e.activity.removeprefix("work_order.") for e in events.history("work_order", order.number)]


def test_a_batch_keeps_what_one_by_one_intake_keeps(operator, taxonomy):
    before = AuditEntry.objects.count()
    first, again, other = services.receive_many(
        operator,
        [item(LAMP, category="城乡建设"), item(LAMP_AGAIN, phone="13800001234"), item(OTHER)],
    )
    assert WorkOrder.objects.count() == 3
    numbers = {first.number, again.number, other.number}
    assert len(numbers) == 3 and all(n.startswith("H") and len(n) == 15 for n in numbers)
    again.refresh_from_db()
    assert again.contact_phone == "13800001234"
    assert again.phone_index == WorkOrder.index_phone("13800001234")  # found by number, as save() does
    # the repeat within the batch is proposed as a duplicate of the batch's earlier order
    proposal = DuplicateProposal.objects.get()
    assert (proposal.order, proposal.target) == (again, first) and proposal.score >= 0.45
    assert WorkOrder.objects.get(pk=again.pk).cluster == first.number
    assert WorkOrder.objects.get(pk=other.pk).cluster == other.number
    # each order: its events, band keys, and its own journal entry as if recorded alone
    assert activities(first) == ["received", "routed"]
    assert activities(again) == ["received", "duplicate_suspected"]
    assert all(OrderBand.objects.filter(order=o).count() > 0 for o in (first, again, other))
    assert TrainingExample.objects.get().order == first
    entries = list(AuditEntry.objects.order_by("id")[before:].values_list("action", "object_ref"))
    assert sorted(entries[:3]) == sorted(("hotline.create_order", n) for n in numbers)
    assert entries[3] == ("hotline.receive_many", "")
    # the next order, one by one, finds the batch's orders in the index
    later = call(operator, text=LAMP_AGAIN, address=PLACE)
    assert DuplicateProposal.objects.filter(order=later, target=first).exists()


def test_a_batch_order_matches_orders_indexed_before(operator):
    earlier = call(operator, text=LAMP, address=PLACE)
    (order,) = services.receive_many(operator, [item(LAMP_AGAIN)])
    assert DuplicateProposal.objects.get(order=order).target == earlier
    assert WorkOrder.objects.get(pk=order.pk).cluster == earlier.number


def test_a_hotspot_warning_comes_once_from_a_batch(operator):
    services.receive_many(operator, [item(f"{LAMP}（第{i}次反映）") for i in range(20)])
    warning = HotspotWarning.objects.get()
    assert warning.recent == 20
    assert len(set(WorkOrder.objects.values_list("cluster", flat=True))) == 1


def test_a_bad_order_refuses_the_whole_batch(operator, taxonomy):
    with pytest.raises(InvalidInput) as refused:
        services.receive_many(
            operator,
            [item(LAMP), item("", order_type="x"), item(OTHER, category="没有", colour="red")],
        )
    assert set(refused.value.fields) == {
        "orders.1.text",
        "orders.1.order_type",
        "orders.2.category",
        "orders.2.colour",
    }
    assert not WorkOrder.objects.exists() and not OrderBand.objects.exists()
    with pytest.raises(InvalidInput) as not_an_order:
        services.receive_many(operator, [item(LAMP), ["text", LAMP]])
    assert set(not_an_order.value.fields) == {"orders.1"}
    with pytest.raises(InvalidInput) as empty:
        services.receive_many(operator, [])
    assert set(empty.value.fields) == {"orders"}
    with pytest.raises(InvalidInput):
        services.receive_many(operator, [item(LAMP)] * (services.BATCH_MAX + 1))
    with pytest.raises(NotPermitted):
        services.receive_many(actor("zhangsan"), [item(LAMP)], channel="portal")
    with pytest.raises(NotPermitted):
        services.receive_many(actor("handler_zj"), [item(LAMP)])


@pytest.fixture
def trained(tmp_path, settings):
    settings.VAR_DIR = tmp_path / "var"
    router._loaded.clear()
    rng = random.Random(7)
    rows = [(message(label, rng, segmented=True), label) for label in VOCAB for _ in range(30)]
    router.save(router.train([t for t, _ in rows], [label for _, label in rows], folds=3))
    yield router.load()
    router._loaded.clear()


def test_the_router_suggests_and_a_confident_suggestion_may_be_taken(operator, taxonomy, trained):
    text = "小区物业不管，垃圾清运太慢，路灯也坏了，施工噪音"
    assert trained.suggest(text).label == "城乡建设"
    (suggested,) = services.receive_many(operator, [item(text)])
    assert suggested.suggested_category == "城乡建设" and suggested.category is None
    assert not TrainingExample.objects.exists()
    (taken,) = services.receive_many(operator, [item(text, address="另一条街")], accept_suggestions=True)
    assert taken.category.path == "城乡建设" and taken.department.code == "zjj"
    assert taken.suggestion_accepted is True
    assert TrainingExample.objects.get().order == taken
    # the operator's own category wins over the suggestion
    (chosen,) = services.receive_many(
        operator, [item(text, address="第三条街", category="教育文体")], accept_suggestions=True
    )
    assert chosen.category.path == "教育文体" and chosen.suggestion_accepted is False


def test_the_batch_endpoint(taxonomy):
    centre, csrf = logged_in("operator")
    created = post(
        centre,
        csrf,
        "/api/v1/hotline/orders/batch",
        {"orders": [item(LAMP, category="城乡建设", dispatch=True), item(OTHER)]},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["count"] == 2
    assert body["orders"][0]["department"] == "zjj" and body["orders"][0]["status"] == "dispatched"
    bad = post(centre, csrf, "/api/v1/hotline/orders/batch", {"orders": [item(LAMP), item("")]})
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"orders.1.text"}
    assert WorkOrder.objects.count() == 2
