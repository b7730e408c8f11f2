"""One unit of work per state change: one durable transaction, its audit-journal entry, its events,
and the work published once it commits (jobs, notifications, signals).

Every service that changes state is a use case:

    @use_case("cases.accept", object_type="case")
    def accept(actor: Actor, number: str) -> Case:
        case = access_case(actor, number, lock=True)
        ...
        uow = current()
        uow.audit.object_ref = case.number
        uow.event("case", case.number, "case.accepted", at=now, actor=actor, department_code=...)
        uow.after_commit(tasks.render_document, case.number)

The transaction is durable: a use case never runs inside another one. Nesting is refused
(`NestedUseCase`) instead of silently joining the outer transaction, because a joined use case
would commit or roll back with work it knows nothing about, and its after-commit work would run
for a transaction it does not own. A service that needs another's logic calls that service's
inner function (Zulip's do_* pattern), not the use case.

At the end, in this order and in the same transaction: the buffered events in one INSERT, then
the audit entries (the journal's chain-head lock is the last lock taken, see core/audit.py). A
use case that raises is rolled back and its refusal or failure is journalled on its own; its
events and after-commit work are dropped with it.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from django.db import transaction

from . import audit, events

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


class NestedUseCase(RuntimeError):
    """A use case was started inside another use case (or inside an `audited` block)."""


class NoUseCase(RuntimeError):
    """Code that must run inside a use case ran outside one."""


class UnitOfWork:
    """What a running use case collects: the audit entry, events and after-commit work."""

    def __init__(self, entry: audit.PendingEntry):
        self.audit = entry
        self.events: list[events.Event] = []
        self._after_commit: list[tuple[Callable[..., Any], tuple, dict]] = []

    def event(self, subject_kind: str, subject_id: str, activity: str, **fields: Any) -> events.Event:
        """Record an event of this use case (see core.events.make for the fields)."""
        event = events.make(subject_kind, subject_id, activity, **fields)
        self.events.append(event)
        return event

    def add_events(self, made: list[events.Event]) -> None:
        self.events.extend(made)

    def after_commit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Run fn(*args, **kwargs) once the transaction has committed: enqueue a job, send a
        notification, fire a signal. Never runs if the use case fails."""
        self._after_commit.append((fn, args, kwargs))

    def _publish(self) -> None:
        for fn, args, kwargs in self._after_commit:
            try:
                fn(*args, **kwargs)
            except Exception:
                # The change is committed; a job that could not be queued must not turn the
                # caller's success into an error. It is logged for the operator.
                log.exception("after-commit work %s failed", getattr(fn, "__name__", fn))


class _State(threading.local):
    current: UnitOfWork | None = None


_state = _State()


def current() -> UnitOfWork:
    """The unit of work of the use case running in this thread."""
    uow = _state.current
    if uow is None:
        raise NoUseCase("this code must run inside a use case (core.uow.use_case)")
    return uow


def active() -> UnitOfWork | None:
    return _state.current


@contextmanager
def unit_of_work(
    action: str,
    *,
    actor=None,
    object_type: str = "",
    object_ref: str = "",
    department_code: str = "",
    detail: dict | None = None,
) -> Iterator[UnitOfWork]:
    """The context-manager form of `use_case`, for a state change that is not a whole function."""
    if _state.current is not None or audit.in_audited_block():
        raise NestedUseCase(f"{action} was started inside another use case")
    actor_id, actor_label = audit.actor_identity(actor)
    uow = UnitOfWork(
        audit.PendingEntry(
            action=action,
            actor_id=actor_id,
            actor_label=actor_label,
            object_type=object_type,
            object_ref=str(object_ref or ""),
            department_code=department_code or "",
            detail=dict(detail or {}),
        )
    )
    _state.current = uow
    pending = audit.open_buffer()
    try:
        try:
            with transaction.atomic(durable=True):
                yield uow
                events.write(uow.events)
                pending.append(uow.audit)
                audit.write_entries(pending)
                if uow._after_commit:
                    transaction.on_commit(uow._publish)
                # The after-commit work runs as this block commits (an inline job queue runs jobs
                # right there): it is not part of this use case, and its own use cases must not
                # find this one open.
                _state.current = None
                audit.close_buffer()
        except BaseException as exc:
            audit.journal_failure(uow.audit, exc)
            raise
    finally:
        _state.current = None
        audit.close_buffer()


def use_case(
    action: str,
    *,
    object_type: str = "",
    actor_arg: str = "actor",
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Make a service function a use case: one durable transaction with its journal entry, events
    and after-commit work. The actor is the function's `actor` argument (or `actor_arg`)."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(fn)
        takes_actor = actor_arg in signature.parameters

        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            actor = None
            if takes_actor:
                bound = signature.bind_partial(*args, **kwargs)
                actor = bound.arguments.get(actor_arg)
            with unit_of_work(action, actor=actor, object_type=object_type):
                return fn(*args, **kwargs)

        run.use_case = action  # type: ignore[attr-defined]
        return run

    return decorate
