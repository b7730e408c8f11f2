"""Appending to the audit journal in as few statements as possible, and reading it in one
consistent snapshot; this module owns the engine-specific SQL.

An audited transaction adds two statements on PostgreSQL: claim a free chain head (FOR UPDATE
SKIP LOCKED), and insert the entries together with the head's new tip in one statement (a
data-modifying CTE). Through the ORM it would be three, each a round trip made while the head
row is locked, plus the ORM's own Python overhead per statement. SQLite has one writer at a
time (the IMMEDIATE transaction already holds the write lock), so it needs no row lock and takes
the entries and the new tip in two plain statements.
"""

import json
import random
from contextlib import contextmanager

from django.db import connection, transaction

from tongban.core import sql

COLUMNS = (
    "chain",
    "seq",
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_ref",
    "department_code",
    "outcome",
    "request_id",
    "client_ip",
    "detail",
    "key_id",
    "prev_mac",
    "entry_mac",
)

_PG_CLAIM_FREE = """
    SELECT id, seq, entry_mac FROM core_audithead
    WHERE id < %s ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
"""
_PG_CLAIM_ONE = "SELECT id, seq, entry_mac FROM core_audithead WHERE id = %s FOR UPDATE"
_SQLITE_CLAIM = "SELECT id, seq, entry_mac FROM core_audithead WHERE id = %s"
_SET_TIP = "UPDATE core_audithead SET seq = %s, entry_mac = %s WHERE id = %s"


def claim_head(chains: int) -> tuple[int, int, str] | None:
    """Lock the head of a chain and return (chain, last seq, last mac); None if heads are missing.

    On PostgreSQL a head no one holds is taken; if every head is busy, the writer queues for a
    random one. FOR UPDATE returns the latest committed version of the locked row (READ COMMITTED
    re-reads it after waiting), so the seq and mac we chain from are never stale.
    """
    if sql.is_postgresql():
        row = sql.one(_PG_CLAIM_FREE, [chains])
        if row is None:
            row = sql.one(_PG_CLAIM_ONE, [random.randrange(chains)])
    else:
        row = sql.one(_SQLITE_CLAIM, [random.randrange(chains)])
    return tuple(row) if row else None


def _params(rows: list[dict]) -> list:
    """Values as the ORM would store them (Django's own adapter for the timestamp, JSON text)."""
    params = []
    for row in rows:
        for column in COLUMNS:
            value = row[column]
            if column == "detail":
                value = json.dumps(value)
            elif column == "occurred_at":
                value = sql.timestamp(value)
            params.append(value)
    return params


def append(rows: list[dict], chain: int, last_seq: int, last_mac: str) -> None:
    """Insert chained entries and move the chain's head to the new tip, in the caller's transaction."""
    postgresql = sql.is_postgresql()
    detail = "%s::jsonb" if postgresql else "%s"
    one_row = "(" + ", ".join(detail if c == "detail" else "%s" for c in COLUMNS) + ")"
    # Only constants and placeholders are interpolated; every value is a bound parameter.
    insert = f"INSERT INTO core_auditentry ({', '.join(COLUMNS)}) VALUES {', '.join([one_row] * len(rows))}"  # noqa: S608
    if postgresql:
        sql.execute(
            f"WITH appended AS ({insert} RETURNING 1) {_SET_TIP}", [*_params(rows), last_seq, last_mac, chain]
        )
    else:
        sql.execute(insert, _params(rows))
        sql.execute(_SET_TIP, [last_seq, last_mac, chain])


@contextmanager
def consistent_snapshot():
    """Read the heads and every entry as of one moment, while writers carry on.

    Without it a verification racing an append sees an entry its head does not count yet (or the
    reverse) and reports tampering that did not happen. PostgreSQL: a REPEATABLE READ, READ ONLY
    transaction. SQLite (WAL): a deferred read transaction, which neither blocks nor waits for the
    writer. Inside an enclosing transaction the view is already that transaction's.
    """
    if connection.in_atomic_block:
        yield
        return
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
        return
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN DEFERRED")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("COMMIT")
