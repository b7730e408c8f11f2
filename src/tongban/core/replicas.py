"""Analytics reads on a streaming replica, when one is configured and close enough behind.

The production shape (docs/scale.md) has a PostgreSQL primary and a streaming replica. Dashboards,
KPI reports, case-event exports and monthly reports read a great deal and write next to nothing,
so they read from the replica and leave the primary's cores to the clerks. A service function
marked `@analytics` runs its reads there — through the ORM (AnalyticsRouter) and through
core.sql (`read_alias()`) — as long as:

- DATABASES["replica"] is configured (TONGBAN_REPLICA_URL; never on the embedded SQLite default);
- the replica answers, is still in recovery (not promoted) and streams from the primary;
- it is no more than TONGBAN_REPLICA_MAX_LAG_SECONDS behind;
- the caller is not inside a transaction on the primary (a read that decides a write must see
  the primary's rows and hold its locks).

Otherwise the same reads go to the primary, so nothing fails because the replica is away: the
state is checked at most every TONGBAN_REPLICA_CHECK_SECONDS per process, and a query that fails
on the replica marks it down and runs the whole function again on the primary. /readyz and the
metrics say which is in use and why.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
DOWN_RECHECK_FACTOR = 3  # a replica found down is asked again after 3 × the check interval

_analytics: ContextVar[bool] = ContextVar("tongban_analytics", default=False)
_used_replica: ContextVar[bool] = ContextVar("tongban_used_replica", default=False)


@dataclass(frozen=True)
class ReplicaState:
    configured: bool
    usable: bool
    reason: str  # ok | not configured | lagging | not streaming | not a replica | down | …
    lag_seconds: float | None = None
    checked_at: float = 0.0

    def as_dict(self) -> dict:
        return {
            "configured": self.configured,
            "in_use": self.usable,
            "state": self.reason,
            "lag_seconds": None if self.lag_seconds is None else round(self.lag_seconds, 3),
            "reads_from": REPLICA if self.usable else "primary",
        }


NOT_CONFIGURED = ReplicaState(configured=False, usable=False, reason="not configured")

# On the replica: still in recovery; has it replayed all it received; how old is the last
# transaction it replayed; is a WAL receiver running, and is it streaming (its status is visible
# to roles with pg_monitor only). A replica that replayed everything it received while streaming
# is current, however long ago the primary last wrote.
LAG_SQL = (
    "SELECT pg_is_in_recovery(), "
    "pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn(), "
    "EXTRACT(EPOCH FROM (clock_timestamp() - pg_last_xact_replay_timestamp()))::float8, "
    "(SELECT COUNT(*) FROM pg_stat_wal_receiver), "
    "(SELECT status FROM pg_stat_wal_receiver LIMIT 1)"
)


def judge(row: tuple | None, max_lag: float, now: float) -> ReplicaState:
    """The state a probe's row means (split out so it can be tested without a replica)."""
    if row is None:
        return ReplicaState(True, False, "down", None, now)
    in_recovery, caught_up, replay_age, receivers, receiver = row
    if not in_recovery:
        return ReplicaState(True, False, "not a replica", None, now)
    if receivers and receiver is None:
        return ReplicaState(True, False, "receiver hidden (grant pg_monitor)", replay_age, now)
    if receiver != "streaming":
        return ReplicaState(True, False, "not streaming", replay_age, now)
    lag = 0.0 if caught_up else float(replay_age) if replay_age is not None else None
    if lag is None or lag > max_lag:
        return ReplicaState(True, False, "lagging", lag, now)
    return ReplicaState(True, True, "ok", lag, now)


def configured() -> bool:
    return REPLICA in settings.DATABASES


def probe(alias: str = REPLICA) -> ReplicaState:
    """Ask the replica how far behind it is (one short query on this thread's connection)."""
    now = time.monotonic()
    max_lag = float(getattr(settings, "TONGBAN_REPLICA_MAX_LAG", 30))
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute(LAG_SQL)
            row = cursor.fetchone()
    except Exception as error:  # any failure to answer means: do not read there
        logger.warning(
            "replica %s unreachable: %s", alias, str(error).splitlines()[0] if str(error) else error
        )
        _close_quietly(alias)
        return ReplicaState(True, False, "down", None, now)
    return judge(row, max_lag, now)


def _first_line(error: Exception) -> str:
    text = str(error)
    return text.splitlines()[0] if text else type(error).__name__


def _close_quietly(alias: str) -> None:
    with contextlib.suppress(Exception):  # a dead connection may fail to close; it is dropped anyway
        connections[alias].close()


class _Monitor:
    """The process's view of the replica, probed at most every TONGBAN_REPLICA_CHECK_SECONDS (and
    less often while it is down); one thread probes while the others keep the previous answer."""

    def __init__(self):
        self._state = NOT_CONFIGURED
        self._lock = threading.Lock()

    def state(self, *, fresh: bool = False) -> ReplicaState:
        if not configured():
            return NOT_CONFIGURED
        state = self._state
        interval = float(getattr(settings, "TONGBAN_REPLICA_CHECK_SECONDS", 5))
        if state.configured and not state.usable:
            interval *= DOWN_RECHECK_FACTOR
        age = time.monotonic() - state.checked_at
        due = fresh or not state.configured or age >= interval
        if due and self._lock.acquire(blocking=not state.configured or fresh):
            try:
                previous, self._state = self._state, probe()
            finally:
                self._lock.release()
            if previous.configured and previous.reason != self._state.reason:
                logger.warning(
                    "analytics reads: replica %s → %s%s",
                    previous.reason,
                    self._state.reason,
                    "" if self._state.usable else " (reading from the primary)",
                )
        return self._state

    def mark_down(self, reason: str = "down") -> None:
        self._state = ReplicaState(True, False, reason, None, time.monotonic())

    def forget(self) -> None:
        self._state = NOT_CONFIGURED


monitor = _Monitor()


def state(*, fresh: bool = False) -> ReplicaState:
    return monitor.state(fresh=fresh)


def _replica_allowed() -> bool:
    if not _analytics.get() or not configured():
        return False
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return False
    if not monitor.state().usable:
        return False
    _used_replica.set(True)
    return True


def read_alias() -> str:
    """The database an analytics read in plain SQL (core.sql) goes to."""
    return REPLICA if _replica_allowed() else DEFAULT_DB_ALIAS


def analytics(function):
    """Run a read-mostly service function's reads on the replica when it is fit (see above).

    Should the replica fail in the middle, the function runs once more on the primary: analytics
    functions read first and write (their journal line, a saved log) at the end, after the reads
    that could have failed."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if _analytics.get() or not configured():
            return function(*args, **kwargs)
        active, used = _analytics.set(True), _used_replica.set(False)
        try:
            return function(*args, **kwargs)
        except (OperationalError, InterfaceError):
            if not _used_replica.get():
                raise
            logger.warning(
                "analytics read failed on the replica; running %s on the primary", function.__name__
            )
            monitor.mark_down()
            _close_quietly(REPLICA)
            _analytics.set(False)
            return function(*args, **kwargs)
        finally:
            _used_replica.reset(used)
            _analytics.reset(active)

    return wrapper


class AnalyticsRouter:
    """Reads inside an `@analytics` function go to the replica when it is fit; everything else, and
    every write, goes to the primary. Migrations run on the primary only (the replica follows)."""

    def db_for_read(self, model, **hints):
        return REPLICA if _replica_allowed() else DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        # Said explicitly: Django would otherwise write an object back where it was read from.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same rows, a few seconds apart

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA
