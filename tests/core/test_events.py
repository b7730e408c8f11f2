"""The one event log (core.events) and the unit of work (core.uow) every app writes through."""

import datetime as dt
import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from tongban.core import events, uow
from tongban.core.authz import SYSTEM
from tongban.core.errors import InvalidInput, NotPermitted
from tongban.core.models import AuditEntry, DomainEvent

events.subject_kind("probe", "probe subject", app="tests")
events.activity(
    "probe.opened",
    "probe opened",
    subject_kind="probe",
    app="tests",
    detail={"size": "int", "note?": "str", "tags": "list"},
)
events.activity(
    "probe.closed",
    "probe closed",
    subject_kind="probe",
    app="tests",
    version=2,
    detail={"outcome": "str"},
    upgrades={1: lambda d: {"outcome": "ok" if d.get("good") else "bad"}},
)

NOW = timezone.now()


def test_an_unregistered_activity_is_refused():
    with pytest.raises(events.UnknownActivity, match="not registered"):
        events.make("probe", "P1", "probe.exploded", at=NOW)


def test_an_activity_of_another_kind_is_refused():
    events.subject_kind("other", "other", app="tests")
    with pytest.raises(events.UnknownActivity, match="activity of probe"):
        events.make("other", "P1", "probe.opened", at=NOW)


@pytest.mark.parametrize(
    "detail, message",
    [
        ({"colour": "red"}, "not declared"),
        ({"size": "3"}, "should be int"),
        ({"size": True}, "should be int"),
        ({"size": None}, "should be int"),
    ],
)
def test_the_detail_must_be_as_declared(detail, message):
    with pytest.raises(events.UnknownActivity, match=message):
        events.make("probe", "P1", "probe.opened", at=NOW, detail=detail)


def test_a_key_declared_nullable_may_be_null():
    event = events.make("probe", "P1", "probe.opened", at=NOW, detail={"size": 2, "note": None})
    assert event.detail == {"size": 2, "note": None}


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        events.make("probe", "P1", "probe.opened", at=dt.datetime(2026, 1, 1))


def test_a_registration_by_another_app_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        events.activity("probe.opened", "x", subject_kind="probe", app="elsewhere")


def test_labels_come_from_the_registry_and_imported_names_pass_through():
    assert events.label("probe.opened") == "probe opened"
    assert events.label("Register request") == "Register request"


@pytest.mark.django_db
def test_written_events_read_back_in_time_order_with_every_field():
    work = uuid.uuid4()
    later = NOW + dt.timedelta(minutes=5)
    with transaction.atomic():
        events.write(
            [
                events.make("probe", "P1", "probe.closed", at=later, actor=SYSTEM, detail={"outcome": "ok"}),
                events.make(
                    "probe",
                    "P1",
                    "probe.opened",
                    at=NOW,
                    actor=SYSTEM,
                    department_code="D1",
                    channel="online",
                    work_item=work,
                    lifecycle="start",
                    detail={"size": 3, "tags": ["a", "中文"]},
                ),
                events.make("probe", "P2", "probe.opened", at=NOW, detail={"size": 1}),
            ]
        )
    history = events.history("probe", "P1")
    assert [e.activity for e in history] == ["probe.opened", "probe.closed"]
    opened = history[0]
    assert opened.occurred_at == NOW
    assert (opened.department_code, opened.channel, opened.work_item, opened.lifecycle) == (
        "D1",
        "online",
        work,
        "start",
    )
    assert opened.detail == {"size": 3, "tags": ["a", "中文"]}
    assert opened.actor_label == "system"
    assert history[1].version == 2


@pytest.mark.django_db
def test_an_old_version_is_upgraded_when_read():
    DomainEvent.objects.create(
        subject_kind="probe",
        subject_id="P9",
        activity="probe.closed",
        version=1,
        occurred_at=NOW,
        actor_label="x",
        detail={"good": True},
    )
    (event,) = events.history("probe", "P9")
    assert (event.version, event.detail) == (2, {"outcome": "ok"})


@pytest.mark.django_db
def test_the_stream_pages_by_id_and_filters():
    with transaction.atomic():
        events.write(
            [events.make("probe", f"S{i}", "probe.opened", at=NOW, detail={"size": i}) for i in range(7)]
        )
    everything = list(events.stream(subject_kind="probe", chunk_size=3))
    assert [e.detail["size"] for e in everything] == list(range(7))
    after = list(events.stream(subject_kind="probe", since_id=everything[4].id, chunk_size=2))
    assert [e.subject_id for e in after] == ["S5", "S6"]
    chosen = list(events.stream(subject_ids=["S1", "S3"]))
    assert [e.subject_id for e in chosen] == ["S1", "S3"]
    assert list(events.stream(subject_ids=[])) == []


# --- the unit of work ---------------------------------------------------------------------------


@uow.use_case("tests.probe.open", object_type="probe")
def _open_probe(actor, number: str, *, fail: Exception | None = None, after=None) -> str:
    work = uow.current()
    work.audit.object_ref = number
    work.event("probe", number, "probe.opened", at=NOW, actor=actor, detail={"size": 1})
    if after is not None:
        work.after_commit(after, number)
    if fail is not None:
        raise fail
    return number


@pytest.mark.django_db(transaction=True)
def test_a_use_case_commits_its_events_its_entry_and_then_its_work():
    published = []
    assert _open_probe(SYSTEM, "U1", after=published.append) == "U1"
    assert [e.activity for e in events.history("probe", "U1")] == ["probe.opened"]
    entry = AuditEntry.objects.get(action="tests.probe.open")
    assert (entry.object_ref, entry.outcome, entry.actor_label) == ("U1", "success", "system")
    assert published == ["U1"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "error, outcome", [(InvalidInput.single("x", "bad", "bad"), "invalid"), (NotPermitted(), "denied")]
)
def test_a_failed_use_case_keeps_nothing_but_its_refusal(error, outcome):
    published = []
    with pytest.raises(type(error)):
        _open_probe(SYSTEM, "U2", fail=error, after=published.append)
    assert events.history("probe", "U2") == []
    assert published == []
    assert AuditEntry.objects.get(action="tests.probe.open").outcome == outcome


@pytest.mark.django_db(transaction=True)
def test_use_cases_do_not_nest():
    @uow.use_case("tests.probe.outer")
    def outer(actor):
        return _open_probe(actor, "U3")

    with pytest.raises(uow.NestedUseCase):
        outer(SYSTEM)
    assert events.history("probe", "U3") == []


@pytest.mark.django_db(transaction=True)
def test_after_commit_work_may_run_a_use_case_of_its_own():
    """An inline job queue runs a job (itself a use case) as the first use case commits."""
    _open_probe(SYSTEM, "U6", after=lambda number: _open_probe(SYSTEM, number + "-job"))
    assert len(events.history("probe", "U6")) == 1
    assert len(events.history("probe", "U6-job")) == 1
    assert AuditEntry.objects.filter(action="tests.probe.open", outcome="success").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_use_case_is_not_run_inside_a_caller_transaction():
    with pytest.raises(RuntimeError), transaction.atomic():
        _open_probe(SYSTEM, "U4")


def test_current_outside_a_use_case_says_so():
    with pytest.raises(uow.NoUseCase):
        uow.current()


@pytest.mark.django_db(transaction=True)
def test_after_commit_work_that_fails_does_not_undo_the_change(caplog):
    def broken(number):
        raise ConnectionError("queue down")

    _open_probe(SYSTEM, "U5", after=broken)
    assert len(events.history("probe", "U5")) == 1
    assert "after-commit work broken failed" in caplog.text


def test_an_activity_of_any_kind_applies_to_every_subject():
    events.activity("probe.any_step", "a step", subject_kind=events.ANY_KIND, app="tests")
    assert events.make("other", "O1", "probe.any_step", at=NOW).subject_kind == "other"
    assert events.make("probe", "P1", "probe.any_step", at=NOW).subject_kind == "probe"
    assert "probe.any_step" in [a.code for a in events.registry.activities("probe")]


def test_a_family_stands_for_its_members():
    events.activity("probe.step:", "a step", subject_kind="probe", app="tests", detail={"node": "str"})
    event = events.make("probe", "P1", "probe.step:审查", at=NOW, detail={"node": "n1"})
    assert event.activity == "probe.step:审查" and event.label == "probe.step:审查"  # the step's own name
    with pytest.raises(events.UnknownActivity, match="not registered"):
        events.make("probe", "P1", "probe.step", at=NOW)
    with pytest.raises(events.UnknownActivity, match="not declared"):
        events.make("probe", "P1", "probe.step:审查", at=NOW, detail={"size": 1})
    assert events.own_label("probe.step:审查") is None


def test_an_audience_reads_its_own_label_or_none():
    events.activity(
        "probe.told",
        "told (staff)",
        subject_kind="probe",
        app="tests",
        audiences={"applicant": "told (you)", "window": None},
    )
    assert events.label("probe.told") == "told (staff)"
    assert events.label("probe.told", "applicant") == "told (you)"
    assert events.label("probe.told", "other") == "told (staff)"
    assert events.own_label("probe.told", "applicant") == "told (you)"
    assert events.own_label("probe.told", "window") is None
    assert events.own_label("probe.told", "other") is None
    assert events.own_label("probe.unknown") is None


@pytest.mark.django_db
def test_thousands_of_events_of_one_use_case_are_written_in_batches():
    made = [
        events.make("probe", f"P{n}", "probe.opened", at=NOW, detail={"size": n, "tags": []})
        for n in range(5000)
    ]
    with transaction.atomic():
        events.write(made)
    assert DomainEvent.objects.filter(subject_kind="probe").count() == 5000


def test_one_event_for_many_subjects_is_checked_once_and_each_gets_its_own_detail():
    with pytest.raises(events.UnknownActivity, match="not registered"):
        events.make_many("probe", ["P1", "P2"], "probe.exploded", at=NOW)
    with pytest.raises(events.UnknownActivity, match="should be int"):
        events.make_many("probe", ["P1", "P2"], "probe.opened", at=NOW, detail={"size": "3"})
    made = events.make_many(
        "probe",
        ["P1", "P2", "P3"],
        "probe.opened",
        at=NOW,
        actor=SYSTEM,
        department_code="D1",
        detail={"size": 2},
    )
    assert [e.subject_id for e in made] == ["P1", "P2", "P3"]
    single = events.make(
        "probe", "P1", "probe.opened", at=NOW, actor=SYSTEM, department_code="D1", detail={"size": 2}
    )
    assert made[0] == single
    made[0].detail["size"] = 5
    assert made[1].detail == {"size": 2}
    assert events.make_many("probe", [], "probe.opened", at=NOW, detail={"size": 1}) == []


@pytest.mark.django_db
def test_a_large_append_reads_back_field_for_field_as_a_small_one():
    # From a thousand events PostgreSQL takes them by COPY; SQLite by multi-row INSERTs.
    work = uuid.uuid4()
    made = events.make_many(
        "probe", [f"L{n}" for n in range(1200)], "probe.opened", at=NOW, actor=SYSTEM, detail={"size": 7}
    )
    made.append(
        events.make(
            "probe",
            "L0",
            "probe.closed",
            at=NOW + dt.timedelta(seconds=1),
            work_item=work,
            detail={"outcome": "好"},
        )
    )
    with transaction.atomic():
        events.write(made)
    assert DomainEvent.objects.filter(subject_kind="probe", subject_id__startswith="L").count() == 1201
    opened, closed = events.history("probe", "L0")
    assert (opened.activity, opened.occurred_at, opened.detail, opened.actor_label, opened.work_item) == (
        "probe.opened",
        NOW,
        {"size": 7},
        "system",
        None,
    )
    assert (closed.work_item, closed.detail, closed.version, closed.lifecycle) == (
        work,
        {"outcome": "好"},
        2,
        "complete",
    )
