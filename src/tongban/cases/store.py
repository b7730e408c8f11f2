"""The hot path of case handling in plain SQL; this module owns that SQL.

Every staff step of a case locks the case and may update its data (its domain events go to the
core event log, core/event_store.py). These run on each of the dozen steps of every case, so they
bypass the ORM's per-statement overhead the same way workflow/store.py does for the process itself.
"""

import json
import secrets
from dataclasses import dataclass

from django.db import IntegrityError

from tongban.core import sql
from tongban.workflow.store import _datetime_param, _from_datetime


@dataclass(slots=True)
class CaseRow:
    id: int
    number: str
    status: str
    department_id: int
    channel: str
    data: dict
    applicant_id: int
    enterprise_id: int | None
    limit_days: int | None
    accepted_at: object
    decision: str
    window_id: int | None
    visits: int
    item_version_id: int | None
    bundle_version_id: int | None
    paused_days: float
    paused_since: object
    pause_reason: str
    by_commitment: bool
    accepted_by_id: int | None
    due_at: object
    submitted_by_id: int


_COLUMNS = (
    "id, number, status, department_id, channel, data, applicant_id, enterprise_id, limit_days, accepted_at, "
    "decision, window_id, visits, item_version_id, bundle_version_id, paused_days, paused_since, "
    "pause_reason, by_commitment, accepted_by_id, due_at, submitted_by_id"
)


def read_case(number: str) -> CaseRow | None:
    return lock_case(number, lock=False)


def lock_case(number: str, *, lock: bool = True) -> CaseRow | None:
    lock = " FOR UPDATE" if lock and sql.is_postgresql() else ""
    row = sql.one(f"SELECT {_COLUMNS} FROM cases_case WHERE number = %s{lock}", [number])  # noqa: S608
    if row is None:
        return None
    case = CaseRow(*row)
    if isinstance(case.data, str):
        case.data = json.loads(case.data)
    case.accepted_at = _from_datetime(case.accepted_at)
    case.paused_since, case.due_at = _from_datetime(case.paused_since), _from_datetime(case.due_at)
    case.by_commitment = bool(case.by_commitment)
    return case


_UPDATABLE = {
    "status",
    "decision",
    "data",
    "decided_at",
    "closed_at",
    "visits",
    "accepted_at",
    "accepted_by_id",
    "window_id",
    "due_at",
    "process_instance_id",
    "paused_days",
    "paused_since",
    "pause_reason",
    "decision_basis",
    "delivery",
    "delivery_address",
    "document_digest",
    "revoked_at",
    "by_commitment",
    "commitment_signed_at",
}


def update_case(case_id: int, **values) -> None:
    assert set(values) <= _UPDATABLE, set(values) - _UPDATABLE
    assignments, params = [], []
    for column, value in values.items():
        if column in ("data", "decision_basis"):
            value = json.dumps(value)
        elif column.endswith("_at"):
            value = _datetime_param(value)
        assignments.append(f"{column} = %s")
        params.append(value)
    sql.execute(f"UPDATE cases_case SET {', '.join(assignments)} WHERE id = %s", [*params, case_id])  # noqa: S608


_VERSION_SQL = {
    "item": "SELECT current_id FROM catalog_serviceitem WHERE code = %s",
    "bundle": "SELECT current_id FROM catalog_bundle WHERE code = %s",
}


def published_version(kind: str, code: str) -> int | None:
    """The id of the version now published under a code (the cached version objects hang off it)."""
    row = sql.one(_VERSION_SQL[kind], [code])
    return row[0] if row else None


def case_number_for_key(user_id: int, idempotency_key: str) -> str | None:
    """The case an account already filed under an idempotency key, if any."""
    row = sql.one(
        "SELECT number FROM cases_case WHERE submitted_by_id = %s AND idempotency_key = %s",
        [user_id, idempotency_key],
    )
    return row[0] if row else None


def take_case_serial(region: str, day) -> tuple[int, bytes]:
    """The next serial of a region's day and the day's key, counted in the caller's transaction.

    The same SQL on both engines. An UPDATE takes the next serial; only the first case of the day
    finds no row and inserts it (with a fresh random key; ON CONFLICT covers two firsts racing).
    PostgreSQL locks the row until the caller commits, so concurrent applications of one region
    queue here for the rest of their transaction, and a rolled-back one gives its serial back; on
    SQLite the transaction already holds the database's write lock (BEGIN IMMEDIATE). Either way no
    two committed cases share a serial.
    """
    # fetchall, not fetchone: SQLite finishes a RETURNING statement only when its rows are drained.
    rows = sql.all_rows(
        "UPDATE cases_casenumberday SET last_serial = last_serial + 1 WHERE region = %s AND day = %s "
        "RETURNING last_serial, key",
        [region, day],
    )
    if not rows:
        rows = sql.all_rows(
            "INSERT INTO cases_casenumberday (region, day, last_serial, key) VALUES (%s, %s, 1, %s) "
            "ON CONFLICT (region, day) DO UPDATE SET last_serial = cases_casenumberday.last_serial + 1 "
            "RETURNING last_serial, key",
            [region, day, secrets.token_hex(16)],
        )
    serial, key = rows[0]
    return serial, bytes.fromhex(key)


def enterprise_id(uscc: str) -> int | None:
    row = sql.one("SELECT id FROM accounts_enterprise WHERE uscc = %s", [uscc])
    return row[0] if row else None


_CASE_INSERT = (
    "number",
    "item_version_id",
    "bundle_version_id",
    "title",
    "department_id",
    "applicant_id",
    "enterprise_id",
    "submitted_by_id",
    "channel",
    "window_id",
    "status",
    "decision",
    "data",
    "idempotency_key",
    "limit_days",
    "paused_days",
    "visits",
    "submitted_at",
    "pause_reason",
    "by_commitment",
    "commitment_signed_at",
    "decision_basis",
    "delivery",
    "delivery_address",
    "document_digest",
)


_MATERIAL_INSERT = (
    "name",
    "required",
    "core",
    "status",
    "source",
    "note",
    "file_ref",
    "file_kind",
    "file_name",
    "file_size",
    "provided_at",
)


NUMBER_ATTEMPTS = 8


def insert_case(values: dict, materials: list[dict], renumber=None) -> int:
    """A new case and its material checklist, in two statements; returns the case id.

    Numbers come from the counter per region and day (`take_case_serial`), so they do not repeat.
    Should one be taken all the same (a counter row lost to a partial restore), the insert does
    nothing and, given `renumber`, is tried again with the next number written back into `values`."""
    for _attempt in range(NUMBER_ATTEMPTS):
        params = []
        for column in _CASE_INSERT:
            value = values[column]
            if column in ("data", "decision_basis"):
                value = json.dumps(value)
            elif column in ("submitted_at", "commitment_signed_at"):
                value = _datetime_param(value)
            params.append(value)
        row = sql.one(
            f"INSERT INTO cases_case ({', '.join(_CASE_INSERT)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(_CASE_INSERT))}) ON CONFLICT (number) DO NOTHING RETURNING id",
            params,
        )
        if row is not None or renumber is None:
            break
        values["number"] = renumber()
    if row is None:
        raise IntegrityError(f"case number {values['number']} is taken")
    case_id = row[0]
    if materials:
        insert_materials(case_id, materials)
    return case_id


def materials_with_status(case_id: int, status: str) -> dict[str, bool]:
    """Name → core of a case's materials in one status."""
    rows = sql.all_rows(
        "SELECT name, core FROM cases_casematerial WHERE case_id = %s AND status = %s ORDER BY id",
        [case_id, status],
    )
    return {name: bool(core) for name, core in rows}


def outstanding_materials(case_id: int) -> dict[str, bool]:
    """Required materials not provided yet (neither uploaded nor checked), name → core."""
    return materials_with_status(case_id, "pending")


def material_names(case_id: int) -> set[str]:
    return {r[0] for r in sql.all_rows("SELECT name FROM cases_casematerial WHERE case_id = %s", [case_id])}


def mark_materials(
    case_id: int, names: list[str], *, status: str, source: str | None = None, now=None, due_at=None
) -> int:
    if not names:
        return 0
    assignments, params = ["status = %s", "due_at = %s"], [status, _datetime_param(due_at)]
    if source is not None:
        assignments += ["source = %s", "provided_at = %s"]
        params += [source, _datetime_param(now)]
    placeholders = ", ".join(["%s"] * len(names))
    return sql.execute(
        f"UPDATE cases_casematerial SET {', '.join(assignments)} "  # noqa: S608
        f"WHERE case_id = %s AND name IN ({placeholders})",
        [*params, case_id, *names],
    ).rowcount


def add_materials(case_id: int, names: list[str]) -> None:
    """Materials a reviewer asks for that the item's checklist did not have."""
    if names:
        insert_materials(
            case_id, [{"name": n, "required": True, "core": True, "status": "pending"} for n in names]
        )


def insert_materials(case_id: int, materials: list[dict]) -> None:
    one_row = "(" + ", ".join(["%s"] * (len(_MATERIAL_INSERT) + 1)) + ")"
    params = []
    for m in materials:
        params.append(case_id)
        for column in _MATERIAL_INSERT:
            value = m.get(column)
            if column == "provided_at":
                value = _datetime_param(value)
            elif column != "file_size" and value is None:
                value = ""
            params.append(value)
    sql.execute(
        f"INSERT INTO cases_casematerial (case_id, {', '.join(_MATERIAL_INSERT)}) "  # noqa: S608
        f"VALUES {', '.join([one_row] * len(materials))}",
        params,
    )


def provide_material(
    case_id: int, name: str, *, source: str, now, file_ref="", file_kind="", file_name="", file_size=None
) -> None:
    sql.execute(
        "UPDATE cases_casematerial SET status = %s, source = %s, provided_at = %s, due_at = NULL, "
        "file_ref = %s, file_kind = %s, file_name = %s, file_size = %s WHERE case_id = %s AND name = %s",
        ["provided", source, _datetime_param(now), file_ref, file_kind, file_name, file_size, case_id, name],
    )


def published_table(item_id: int) -> tuple[int, int] | None:
    """(id, version) of the published 秒批 table of an item."""
    return sql.one(
        "SELECT id, version FROM cases_decisiontable WHERE item_id = %s AND status = %s",
        [item_id, "published"],
    )


def case_summaries(numbers: list[str]) -> dict[str, dict]:
    """Number → the few case fields a worklist row shows, in one query."""
    if not numbers:
        return {}
    rows = sql.all_rows(
        "SELECT c.number, c.title, c.status, c.channel, c.submitted_at, c.due_at, c.pause_reason, p.name, "  # noqa: S608
        "e.name FROM cases_case c JOIN accounts_person p ON p.id = c.applicant_id "
        "LEFT JOIN accounts_enterprise e ON e.id = c.enterprise_id "
        f"WHERE c.number IN ({', '.join(['%s'] * len(numbers))})",
        numbers,
    )
    return {
        r[0]: {
            "number": r[0],
            "title": r[1],
            "status": r[2],
            "channel": r[3],
            "submitted_at": _from_datetime(r[4]),
            "due_at": _from_datetime(r[5]),
            "pause_reason": r[6],
            "applicant": r[7],
            "enterprise": r[8] or "",
        }
        for r in rows
    }
