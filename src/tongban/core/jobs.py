"""Queued jobs seen from outside the worker: the queue's depth and the dead letters (core.queue).

A dead letter is a message the worker could not run and kept rather than drop: a job no worker
knows (an older or newer release on one side), a message that cannot be decoded, or a job that
failed on its last retry. `tongban jobs dead-letters` lists them; `tongban jobs requeue` puts one
back on the queue as it was, `tongban jobs discard` closes it. Both are journalled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import audit
from .errors import Conflict, NotFound
from .models import DeadLetter, DeadLetterReason

ERROR_MAX = 2000
ARGUMENTS_MAX = 2000


def _arguments(message) -> str:
    try:
        text = json.dumps(
            {"args": list(message.args or ()), "kwargs": dict(message.kwargs or {})}, default=str
        )
    except (TypeError, ValueError):
        text = repr((message.args, message.kwargs))
    return text[:ARGUMENTS_MAX]


def keep_dead_letter(serializer, data: bytes, error: Exception, *, task=None) -> DeadLetter:
    """Record a message the worker could not run (called by the worker; raises if it cannot)."""
    try:
        message = serializer.deserialize(data)
    except Exception:
        message = None
    if task is not None:
        reason = DeadLetterReason.FAILED
    elif message is None:
        reason = DeadLetterReason.UNDECODABLE
    else:
        reason = DeadLetterReason.UNKNOWN_TASK
    name = getattr(message, "name", "") or (task.name if task is not None else "") or "?"
    letter = DeadLetter.objects.create(
        task=str(name)[:200],
        task_id=str(getattr(message, "id", "") or "")[:64],
        reason=reason,
        error=f"{type(error).__name__}: {error}"[:ERROR_MAX],
        arguments=_arguments(message) if message is not None else "",
        message=bytes(data),
    )
    import logging

    logging.getLogger(__name__).error(
        "job %s kept as dead letter #%d (%s): %s", letter.task, letter.pk, letter.reason, letter.error
    )
    return letter


def dead_letters(*, open_only: bool = True):
    rows = DeadLetter.objects.defer("message")
    return rows.filter(resolved_at__isnull=True) if open_only else rows


def _open_letter(letter_id: int) -> DeadLetter:
    letter = DeadLetter.objects.select_for_update().filter(pk=letter_id).first()
    if letter is None:
        raise NotFound()
    if letter.resolved_at is not None:
        raise Conflict(_("This dead letter was already requeued or discarded."))
    return letter


def requeue(actor, letter_id: int) -> DeadLetter:
    """Put a dead letter's message back on the queue as it was (after the fault is fixed)."""
    from huey.contrib.djhuey import HUEY

    with (
        audit.audited("core.job.requeue", actor=actor, object_type="dead_letter", object_ref=str(letter_id)),
        transaction.atomic(),
    ):
        letter = _open_letter(letter_id)
        letter.resolved_at, letter.resolution = timezone.now(), "requeued"
        letter.save(update_fields=["resolved_at", "resolution"])
        message = bytes(letter.message)
        transaction.on_commit(lambda: HUEY.storage.enqueue(message))
    return letter


def discard(actor, letter_id: int) -> DeadLetter:
    with (
        audit.audited("core.job.discard", actor=actor, object_type="dead_letter", object_ref=str(letter_id)),
        transaction.atomic(),
    ):
        letter = _open_letter(letter_id)
        letter.resolved_at, letter.resolution = timezone.now(), "discarded"
        letter.save(update_fields=["resolved_at", "resolution"])
    return letter


@dataclass
class QueueDepth:
    pending: int | None  # waiting to run
    scheduled: int | None  # waiting for their time (retries, delayed jobs)
    in_flight: int | None  # taken by a worker and not finished (Redis queue only)
    backend: str


def queue_depth() -> QueueDepth:
    """How many jobs wait; None where the queue cannot be read (it is then not ready)."""
    from huey.contrib.djhuey import HUEY

    backend = type(HUEY.storage).__name__
    storage = HUEY.storage
    try:
        pending = storage.queue_size()
        scheduled = storage.schedule_size()
        in_flight = storage.inflight_size() if hasattr(storage, "inflight_size") else 0
    except Exception:
        return QueueDepth(None, None, None, backend)
    return QueueDepth(pending, scheduled, in_flight, backend)
