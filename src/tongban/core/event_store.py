"""Appending to and reading the event log in plain SQL; this module owns that SQL.

Events are written on every step of every subject, so they go in one multi-row INSERT per use
case, on the raw connection (core.sql), like the audit journal. The column list comes from the
model, so adding a field to `DomainEvent` means editing one place.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator

from . import replicas, sql
from .events import Event
from .models import DomainEvent

_TABLE = DomainEvent._meta.db_table
# Every concrete column but the id, in model order; the dataclass has a field of each name.
_COLUMNS = tuple(f.column for f in DomainEvent._meta.concrete_fields if not f.primary_key)
_MAX_PARAMETERS = 30_000  # below SQLite's default limit (32,766) and PostgreSQL's (65,535)
_SELECT = "id, " + ", ".join(_COLUMNS)
# From this many events PostgreSQL loads them by COPY, twice as fast as its longest INSERT (a
# matching run grants fifty thousand benefits in one use case).
_COPY_FROM = 1000


def _json(value) -> str:
    return json.dumps(value or {}, ensure_ascii=False)


def _uuid_hex(value):
    return None if value is None else value.hex


def _same(value):
    return value


def _remembered(convert):
    """`convert`, working each distinct value out once: the events of one append mostly share
    their time (a matching run grants fifty thousand benefits at one instant)."""
    seen: dict = {}

    def remembered(value):
        if value in seen:
            return seen[value]
        return seen.setdefault(value, convert(value))

    return remembered


def _converters(postgresql: bool) -> list:
    """How each column's value is bound, in _COLUMNS order (chosen once per append, not per value)."""
    special = {
        "occurred_at": _remembered(sql.timestamp),
        "work_item": _same if postgresql else _uuid_hex,
        "detail": _json,
    }
    return [special.get(c, _same) for c in _COLUMNS]


def insert(events: list[Event]) -> None:
    if not events:
        return
    postgresql = sql.is_postgresql()
    if postgresql and len(events) >= _COPY_FROM:
        converted = list(zip(_COLUMNS, _converters(postgresql), strict=True))
        rows = ([convert(getattr(e, c)) for c, convert in converted] for e in events)
        sql.copy_rows(_TABLE, list(_COLUMNS), rows)
        return
    detail = "%s::jsonb" if postgresql else "%s"
    one_row = "(" + ", ".join(detail if c == "detail" else "%s" for c in _COLUMNS) + ")"
    columns = list(zip(_COLUMNS, _converters(postgresql), strict=True))
    # One statement per batch: SQLite refuses a statement with more bound values than its limit (a
    # matching run that grants a thousand benefits writes a thousand events in one use case).
    rows = max(1, _MAX_PARAMETERS // len(_COLUMNS))
    for start in range(0, len(events), rows):
        batch = events[start : start + rows]
        params = [convert(getattr(e, c)) for e in batch for c, convert in columns]
        # Only the model's own table and column names are interpolated; values are bound parameters.
        statement = (
            f"INSERT INTO {_TABLE} ({', '.join(_COLUMNS)}) "  # noqa: S608
            f"VALUES {', '.join([one_row] * len(batch))}"
        )
        sql.execute(statement, params)


def _event(row) -> Event:
    values = dict(zip(("id", *_COLUMNS), row, strict=True))
    detail = values["detail"]
    if isinstance(detail, str):
        detail = json.loads(detail)
    work_item = values["work_item"]
    if work_item is not None and not isinstance(work_item, uuid.UUID):
        work_item = uuid.UUID(work_item)
    return Event(
        subject_kind=values["subject_kind"],
        subject_id=values["subject_id"],
        activity=values["activity"],
        occurred_at=sql.from_timestamp(values["occurred_at"]),
        actor_id=values["actor_id"],
        actor_label=values["actor_label"],
        department_code=values["department_code"],
        channel=values["channel"],
        work_item=work_item,
        lifecycle=values["lifecycle"],
        detail=detail or {},
        version=values["version"],
        id=values["id"],
    )


def for_subject(subject_kind: str, subject_id: str) -> list[Event]:
    rows = sql.all_rows(
        f"SELECT {_SELECT} FROM {_TABLE} WHERE subject_kind = %s AND subject_id = %s "  # noqa: S608
        "ORDER BY occurred_at, id",
        [subject_kind, subject_id],
    )
    return [_event(r) for r in rows]


def scan(
    *,
    subject_kind: str | None,
    since_id: int,
    subject_ids: Iterable[str] | None,
    chunk_size: int,
    activities: Iterable[str] | None = None,
) -> Iterator[Event]:
    """Keyset pagination by id, so a long read never holds one huge result in memory. Inside an
    analytics function (core.replicas.analytics) it reads the replica when that is fit."""
    using = replicas.read_alias()
    where, params = ["id > %s"], []
    if subject_kind is not None:
        where.append("subject_kind = %s")
        params.append(subject_kind)
    ids = list(subject_ids) if subject_ids is not None else None
    if ids is not None:
        if not ids:
            return
        where.append(f"subject_id IN ({', '.join(['%s'] * len(ids))})")
        params.extend(ids)
    codes = list(activities) if activities is not None else None
    if codes is not None:
        if not codes:
            return
        where.append(f"activity IN ({', '.join(['%s'] * len(codes))})")
        params.extend(codes)
    statement = f"SELECT {_SELECT} FROM {_TABLE} WHERE {' AND '.join(where)} ORDER BY id LIMIT %s"  # noqa: S608
    last = since_id
    while True:
        rows = sql.all_rows(statement, [last, *params, chunk_size], using=using)
        for row in rows:
            yield _event(row)
        if len(rows) < chunk_size:
            return
        last = rows[-1][0]
