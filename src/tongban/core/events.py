"""The one event log every app writes: what happened to which subject, when, by whom, where.

A case, a hotline work order, an official document or a programme task is a *subject*: a kind
(``case``) and a public id (the case number). Apps register the activities they write, with
their labels in both languages and the keys their detail may carry; writing an activity nobody
registered is a programming error and is refused, so the log never fills with codes that no
page can name and no analysis expects. insight reads this log alone, so it mines any subject
kind the same way (ARCHITECTURE.md, "The spine").

Writing goes through the unit of work (core.uow): a use case buffers its events and they are
inserted in one statement just before its audit entry, in the same transaction. Code outside a
use case (migrations, bulk loaders, benchmarks) calls `write` inside its own transaction.

Versions: an activity's detail may change shape over time. A row keeps the version it was
written with; `Activity.upgrade` turns an old detail into the current shape when it is read, the
way SpiffWorkflow migrates serialised state, so readers only ever see the current shape.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise

from .authz import actor_identity

# Types a detail value may have, by the name an activity declares. JSON can only carry these.
_DETAIL_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "number": (int, float),
    "bool": (bool,),
    "list": (list, tuple),
    "dict": (dict,),
    "any": (str, int, float, bool, list, tuple, dict, type(None)),
}


# The subject kind of activities that can happen to any subject: a work item's steps, written by
# the workflow engine whatever the process is about (a case, a work order, a document).
ANY_KIND = "*"

# A code ending in this registers a family: "work:" stands for "work:<step name>" of any process,
# whose names administrators choose, so they cannot be registered one by one.
FAMILY = ":"


class UnknownActivity(ValueError):
    """Raised when code writes an activity no app registered, or with a detail it did not declare."""


@dataclass(frozen=True)
class SubjectKind:
    code: str  # "case", "order", "document", "task"
    label: Promise | str
    app: str


@dataclass(frozen=True)
class Activity:
    """One thing that can happen to a subject. `detail` names the keys its detail may carry and
    their types ("str", "int", "number", "bool", "list", "dict", "any"); a key ending in "?" may
    also be null."""

    code: str
    subject_kind: str
    label: Promise | str
    app: str
    version: int = 1
    detail: Mapping[str, str] = field(default_factory=dict)
    # old version → function turning a detail of that version into the next version's shape
    upgrades: Mapping[int, Callable[[dict], dict]] = field(default_factory=dict)
    # The same event told to a particular audience ("applicant", "window"); an audience missing here
    # reads `label`, one mapped to None is not told about it at all.
    audiences: Mapping[str, Promise | str | None] = field(default_factory=dict)

    @property
    def is_family(self) -> bool:
        return self.code.endswith(FAMILY)

    @functools.cached_property
    def _checks(self) -> dict[str, tuple[tuple[type, ...], bool, bool]]:
        """key → (types allowed, may be null, bool refused): worked out once, since every event
        of every subject is checked against it on the hot path."""
        checks = {}
        for declared, type_name in self.detail.items():
            key, nullable = (declared[:-1], True) if declared.endswith("?") else (declared, False)
            checks[key] = (_DETAIL_TYPES[type_name], nullable, type_name in ("int", "number"))
        return checks

    def check_detail(self, detail: Mapping[str, Any]) -> None:
        checks = self._checks
        for key, value in detail.items():
            check = checks.get(key)
            if check is None:
                raise UnknownActivity(f"{self.code}: detail key {key!r} is not declared")
            types, nullable, no_bool = check
            if value is None and nullable:
                continue
            if not isinstance(value, types) or (no_bool and isinstance(value, bool)):
                declared = self.detail.get(key) or self.detail[key + "?"]
                raise UnknownActivity(
                    f"{self.code}: detail {key!r} should be {declared}, not {type(value).__name__}"
                )

    def upgrade(self, version: int, detail: dict) -> dict:
        while version < self.version:
            step = self.upgrades.get(version)
            if step is not None:
                detail = step(detail)
            version += 1
        return detail


class Registry:
    """Activities and subject kinds by code. One instance per process, filled by the apps'
    `activities.py` modules when Django starts (each app's AppConfig.ready imports its own)."""

    def __init__(self):
        self._kinds: dict[str, SubjectKind] = {}
        self._activities: dict[str, Activity] = {}

    def subject_kind(self, code: str, label, *, app: str) -> SubjectKind:
        kind = SubjectKind(code, label, app)
        existing = self._kinds.get(code)
        if existing is not None and existing.app != app:
            raise ValueError(f"subject kind {code!r} is already registered by {existing.app}")
        self._kinds[code] = kind
        return kind

    def activity(
        self,
        code: str,
        label,
        *,
        subject_kind: str,
        app: str,
        version: int = 1,
        detail: Mapping[str, str] | None = None,
        upgrades: Mapping[int, Callable[[dict], dict]] | None = None,
        audiences: Mapping[str, Promise | str | None] | None = None,
    ) -> Activity:
        if subject_kind != ANY_KIND and subject_kind not in self._kinds:
            raise ValueError(f"{code}: register subject kind {subject_kind!r} first")
        for key, type_name in (detail or {}).items():
            if type_name not in _DETAIL_TYPES:
                raise ValueError(f"{code}: unknown detail type {type_name!r} for {key!r}")
        existing = self._activities.get(code)
        if existing is not None and existing.app != app:
            raise ValueError(f"activity {code!r} is already registered by {existing.app}")
        activity = Activity(
            code,
            subject_kind,
            label,
            app,
            version,
            dict(detail or {}),
            dict(upgrades or {}),
            dict(audiences or {}),
        )
        self._activities[code] = activity
        return activity

    def get(self, code: str) -> Activity:
        activity = self.find(code)
        if activity is None:
            raise UnknownActivity(f"activity {code!r} is not registered by any app")
        return activity

    def find(self, code: str) -> Activity | None:
        """The activity of a code: its own registration, else its family's ("work:审查" → "work:")."""
        activity = self._activities.get(code)
        if activity is None and FAMILY in code:
            head, _sep, name = code.partition(FAMILY)
            if name:
                activity = self._activities.get(head + FAMILY)
        return activity

    def kind(self, code: str) -> SubjectKind | None:
        return self._kinds.get(code)

    def activities(self, subject_kind: str | None = None) -> list[Activity]:
        return [
            a
            for a in self._activities.values()
            if subject_kind in (None, a.subject_kind) or a.subject_kind == ANY_KIND
        ]

    def kinds(self) -> list[SubjectKind]:
        return list(self._kinds.values())

    def label(self, code: str, audience: str = ""):
        """The registered label of an activity (as told to `audience`, if it has its own); an imported
        log's own names, and the members of a family (a step's own name), are shown as they are."""
        activity = self._activities.get(code)
        if activity is None:
            return code
        if audience in activity.audiences:
            return activity.audiences[audience] or code
        return activity.label

    def own_label(self, code: str, audience: str = ""):
        """The label registered for exactly this code (for `audience`, if given), or None: pages
        that word steps and unregistered codes their own way ask this first."""
        activity = self._activities.get(code)
        if activity is None:
            return None
        if audience:
            return activity.audiences.get(audience)
        return activity.label


registry = Registry()
activity = registry.activity
subject_kind = registry.subject_kind
label = registry.label
own_label = registry.own_label


# --- writing --------------------------------------------------------------------------------------


@dataclass(slots=True)
class Event:
    """One event as written and as read back (`id` is set once stored)."""

    subject_kind: str
    subject_id: str
    activity: str
    occurred_at: dt.datetime
    actor_id: int | None = None
    actor_label: str = "system"
    department_code: str = ""
    channel: str = ""
    work_item: uuid.UUID | None = None
    lifecycle: str = "complete"
    detail: dict = field(default_factory=dict)
    version: int = 1
    id: int | None = None

    @property
    def label(self):
        return registry.label(self.activity)


LIFECYCLES = ("start", "complete", "schedule", "suspend", "resume", "abort")


def make(
    subject_kind: str,
    subject_id: str,
    activity: str,
    *,
    at: dt.datetime,
    actor=None,
    department_code: str = "",
    channel: str = "",
    work_item: uuid.UUID | str | None = None,
    lifecycle: str = "complete",
    detail: Mapping[str, Any] | None = None,
) -> Event:
    """A checked event: the activity is registered for this kind and the detail is as declared."""
    registered = registry.get(activity)
    if registered.subject_kind not in (subject_kind, ANY_KIND):
        raise UnknownActivity(f"{activity} is an activity of {registered.subject_kind}, not {subject_kind}")
    if lifecycle not in LIFECYCLES:
        raise UnknownActivity(f"{activity}: unknown lifecycle {lifecycle!r}")
    if at.tzinfo is None:
        raise ValueError(f"{activity}: event time must be timezone-aware")
    detail = dict(detail or {})
    registered.check_detail(detail)
    actor_id, actor_label = actor_identity(actor)
    if isinstance(work_item, str):
        work_item = uuid.UUID(work_item)
    return Event(
        subject_kind,
        str(subject_id),
        activity,
        at,
        actor_id,
        actor_label,
        department_code or "",
        channel or "",
        work_item,
        lifecycle,
        detail,
        registered.version,
    )


def make_many(
    subject_kind: str,
    subject_ids: Iterable[str],
    activity: str,
    *,
    at: dt.datetime,
    actor=None,
    department_code: str = "",
    channel: str = "",
    lifecycle: str = "complete",
    detail: Mapping[str, Any] | None = None,
) -> list[Event]:
    """The same event for many subjects (a matching run granting fifty thousand benefits), checked
    once as `make` checks one; each event gets its own copy of the detail."""
    first = make(
        subject_kind,
        "",
        activity,
        at=at,
        actor=actor,
        department_code=department_code,
        channel=channel,
        lifecycle=lifecycle,
        detail=detail,
    )
    return [
        Event(
            subject_kind,
            str(subject_id),
            activity,
            at,
            first.actor_id,
            first.actor_label,
            first.department_code,
            first.channel,
            None,
            first.lifecycle,
            dict(first.detail),
            first.version,
        )
        for subject_id in subject_ids
    ]


def write(events: Iterable[Event]) -> None:
    """Store events in the caller's transaction (a use case does this for you at its end)."""
    from . import event_store

    event_store.insert(list(events))


# --- reading --------------------------------------------------------------------------------------


def _upgraded(event: Event) -> Event:
    registered = registry.find(event.activity)
    if registered is not None and event.version < registered.version:
        event.detail = registered.upgrade(event.version, event.detail)
        event.version = registered.version
    return event


def history(subject_kind: str, subject_id: str) -> list[Event]:
    """A subject's events in the order they happened (time, then the order they were written)."""
    from . import event_store

    return [_upgraded(e) for e in event_store.for_subject(subject_kind, subject_id)]


def stream(
    *,
    subject_kind: str | None = None,
    since_id: int = 0,
    subject_ids: Iterable[str] | None = None,
    activities: Iterable[str] | None = None,
    chunk_size: int = 20_000,
) -> Iterator[Event]:
    """Every event (of one kind, some subjects, some activities) after `since_id`, in id order, in
    chunks."""
    from . import event_store

    for event in event_store.scan(
        subject_kind=subject_kind,
        since_id=since_id,
        subject_ids=subject_ids,
        activities=activities,
        chunk_size=chunk_size,
    ):
        yield _upgraded(event)
