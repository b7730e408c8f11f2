"""The worklist's index walks agree with its plain definition on a random mix of steps.

store.worklist answers from partial indexes, one query per (role, department) queue plus the steps
one holds, merged in Python, with a total summed from per-queue counts. Here it is compared, page
by page and for every filter, with the definition written out naively over all rows.
"""

import datetime as dt
import random

import pytest
from django.utils import timezone

from tongban.accounts.models import Department, User
from tongban.workflow import store
from tongban.workflow.models import WorkItem
from tongban.workflow.services import colour_of

NOW = timezone.make_aware(dt.datetime(2026, 11, 23, 10, 0))
ROLES = ("reviewer", "section_head")
KINDS = ("step", "inspection")
KEYS = ("item:A", "item:B")


@pytest.fixture
def steps(db):
    rng = random.Random(20261122)
    departments = list(Department.objects.order_by("path")[:3])
    me = User.objects.get(username="reviewer")
    other = User.objects.get(username="section_head")
    for n in range(160):
        department = rng.choice(departments)
        due = None if rng.random() < 0.15 else NOW + dt.timedelta(hours=rng.randint(-200, 200))
        holder = rng.choice([None, None, me, other])
        WorkItem.objects.create(
            kind=rng.choice(KINDS),
            subject=f"S{n:04d}",
            node_id="n",
            name="step",
            department=department,
            department_path=department.path,
            role=rng.choice(ROLES),
            assignee=holder,
            status=rng.choice(["open", "open", "claimed", "done"] if holder else ["open", "open", "done"]),
            # Ties on the due date on purpose: paging must still be exact (id breaks them).
            due_at=due.replace(minute=0) if due else None,
            yellow_at=None if due is None or rng.random() < 0.2 else due - dt.timedelta(hours=48),
            paused_since=NOW - dt.timedelta(days=1) if rng.random() < 0.1 else None,
            process_key=rng.choice(KEYS),
            created_at=NOW - dt.timedelta(days=10),
        )
    scopes = [("reviewer", [d.path for d in departments[:2]]), ("section_head", [departments[2].path])]
    # The same queue granted twice (as a role over a sub-tree and on one department) counts once.
    scopes.append(("reviewer", [departments[0].path]))
    return scopes, me.pk


def _expected(scopes, me, *, colour=None, process_key=None, due_before=None, kind=None, mine_only=False):
    queues = {(role, path) for role, paths in scopes for path in paths}
    rows = []
    for w in WorkItem.objects.all():
        reachable = (w.status in ("open", "claimed") and w.assignee_id == me) or (
            not mine_only and w.status == "open" and (w.role, w.department_path) in queues
        )
        if not reachable:
            continue
        if colour and colour_of(w, NOW) != colour:
            continue
        if process_key and w.process_key != process_key:
            continue
        if due_before and not (w.due_at and w.due_at < due_before):
            continue
        if kind and w.kind != kind:
            continue
        rows.append(w)
    rows.sort(key=lambda w: (w.due_at is None, w.due_at or NOW, w.pk))
    return [w.pk for w in rows]


FILTERS = [
    {},
    {"mine_only": True},
    {"colour": "red"},
    {"colour": "yellow"},
    {"colour": "green"},
    {"colour": "paused"},
    {"process_key": "item:B"},
    {"kind": "inspection", "colour": "green"},
    {"due_before": NOW + dt.timedelta(hours=50)},
]


FILTER_IDS = [",".join(f"{k}={v}" for k, v in f.items()) or "all" for f in FILTERS]


@pytest.mark.parametrize("filters", FILTERS, ids=FILTER_IDS)
def test_every_page_and_total_match_the_plain_definition(steps, filters):
    scopes, me = steps
    expected = _expected(scopes, me, **filters)
    assert expected, "the random mix should give every filter something to find"
    seen = []
    for page in range(0, len(expected) + 7, 7):
        rows, total = store.worklist(scopes, me, now=NOW, limit=7, offset=page, **filters)
        assert total == len(expected)
        seen += [r.id for r in rows]
    assert seen == expected


def test_nobody_in_scope_sees_nothing(steps):
    assert store.worklist([], None, now=NOW) == ([], 0)


def test_totals_beyond_the_cap_are_reported_as_more(steps, monkeypatch):
    scopes, me = steps
    expected = _expected(scopes, me)
    monkeypatch.setattr(store, "COUNT_CAP", len(expected) - 1)
    rows, total = store.worklist(scopes, me, now=NOW, limit=5, offset=len(expected) - 5)
    assert total == len(expected) and [r.id for r in rows] == expected[-5:]
    monkeypatch.setattr(store, "COUNT_CAP", len(expected) - 10)
    assert store.worklist(scopes, me, now=NOW)[1] == len(expected) - 9
    monkeypatch.setattr(store, "COUNT_CAP", len(expected))
    assert store.worklist(scopes, me, now=NOW)[1] == len(expected)
