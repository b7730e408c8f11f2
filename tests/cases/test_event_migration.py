"""cases/0005: the case events of a database made before the core event log move into it, losing
nothing — same count, same order, same replay — and come back when the migration is undone."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tongban.cases import demo
from tongban.cases.models import Case
from tongban.cases.replay import replay
from tongban.catalog.demo import loader
from tongban.core import events
from tongban.core.models import DomainEvent

BEFORE = [("cases", "0004_case_number_day")]
# What cases/0006 adds to each submission (cases write it themselves since): not in the old rows.
NAMED = ("item", "item_version", "bundle", "bundle_version")
FIELDS = ("activity", "lifecycle", "occurred_at", "actor_id", "actor_label", "department_code", "channel")


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def _row(event) -> tuple:
    get = event.get if isinstance(event, dict) else lambda name: getattr(event, name)
    work_item = get("work_item")
    return (
        *(get(name) for name in FIELDS),
        uuid.UUID(str(work_item)) if work_item else None,
        {k: v for k, v in get("detail").items() if k not in NAMED},
    )


def _old_rows(old_apps) -> list[dict]:
    """The legacy table in id order, as dicts with the case number."""
    CaseEvent = old_apps.get_model("cases", "CaseEvent")
    numbers = dict(Case.objects.values_list("pk", "number"))
    return [
        {**row, "number": numbers[row["case_id"]]}
        for row in CaseEvent.objects.order_by("id").values("id", "case_id", "work_item", "detail", *FIELDS)
    ]


@pytest.mark.django_db(transaction=True)
def test_case_events_move_to_the_core_log_losing_nothing(seeded):
    executor = _migrate(BEFORE)
    try:
        old_apps = executor.loader.project_state(BEFORE).apps
        CaseEvent = old_apps.get_model("cases", "CaseEvent")
        # The demo seed through today's services, its events then put where the old code wrote them.
        loader.load_detail()
        assert demo.load_sample_cases() == 6
        written = list(events.stream(subject_kind="case"))
        cases = dict(Case.objects.values_list("number", "pk"))
        legacy = [
            CaseEvent(
                case_id=cases[e.subject_id],
                work_item=e.work_item,
                detail={k: v for k, v in e.detail.items() if k not in NAMED},
                **{name: getattr(e, name) for name in FIELDS},
            )
            for e in written
        ]
        # What the old log held besides: ties in time, a row written after a later one, no work
        # item, nested and non-ASCII detail, an activity no longer written.
        first = written[0]
        at = first.occurred_at + dt.timedelta(days=3)
        extra = [
            ("case.material_supplied", at, {"material": "营业执照", "paper": True}),
            ("case.rated", at, {"score": 5}),
            ("case.legacy_note", at - dt.timedelta(days=2), {"note": {"a": [1, "二"]}}),
        ]
        for activity, when, detail in extra:
            legacy.append(
                CaseEvent(
                    case_id=cases[first.subject_id],
                    activity=activity,
                    lifecycle="complete",
                    occurred_at=when,
                    actor_id=None,
                    actor_label="system",
                    department_code=first.department_code,
                    channel=first.channel,
                    work_item=None,
                    detail=detail,
                )
            )
        DomainEvent.objects.filter(subject_kind="case").delete()
        CaseEvent.objects.bulk_create(legacy)

        before = _old_rows(old_apps)
        assert len(before) == len(written) + len(extra) > 20
        by_case: dict[str, list[dict]] = {}
        for row in sorted(before, key=lambda r: (r["occurred_at"], r["id"])):
            by_case.setdefault(row["number"], []).append(row)
        replayed = {number: replay(rows) for number, rows in by_case.items()}
    finally:
        executor = _migrate(_latest())

    assert DomainEvent.objects.filter(subject_kind="case").count() == len(before)
    # Same order overall (ids keep the old order) and per case (time, then id).
    moved = list(events.stream(subject_kind="case"))
    assert [(e.subject_id, *_row(e)) for e in moved] == [(r["number"], *_row(r)) for r in before]
    assert {e.version for e in moved} == {1}
    # Each submission names its item as the services write it today (cases/0006).
    named = {
        e.subject_id: {k: e.detail[k] for k in NAMED if k in e.detail}
        for e in written
        if e.activity == "case.submitted"
    }
    assert {
        e.subject_id: {k: e.detail[k] for k in NAMED if k in e.detail}
        for e in moved
        if e.activity == "case.submitted"
    } == named
    assert all(n.get("item") and n.get("item_version") for n in named.values())
    for number, rows in by_case.items():
        history = events.history("case", number)
        assert [_row(e) for e in history] == [_row(r) for r in rows]
        assert replay(history) == replayed[number]
    assert len(by_case) == 6

    # Undone, the migration gives the old table back as it was.
    executor = _migrate(BEFORE)
    try:
        again = _old_rows(executor.loader.project_state(BEFORE).apps)
        assert [(r["number"], *_row(r)) for r in again] == [(r["number"], *_row(r)) for r in before]
        assert not DomainEvent.objects.filter(subject_kind="case").exists()
    finally:
        _migrate(_latest())
