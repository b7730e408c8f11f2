"""The hot path of process execution in plain SQL; this module owns that SQL.

Every staff action (claim, complete) loads a work item, updates it conditionally, locks its
instance, inserts the next work items and updates the instance. Through the ORM each of those
statements costs about half a millisecond of Python on a small server before the database does
any work; here each is a prepared statement with bound parameters, and rows come back as small
dataclasses. The SQL is standard (RETURNING is supported by PostgreSQL and SQLite ≥ 3.35); only
row locks differ, and SQLite does not need them (one writer at a time).
"""

import json
import re
import uuid
from dataclasses import dataclass, fields

from tongban.accounts.models import Department, User
from tongban.core import sql

from .models import WorkItem

_UUID_FIELD = WorkItem._meta.get_field("public_id")


@dataclass(slots=True)
class WorkRow:
    id: int
    public_id: uuid.UUID
    instance_id: int
    subject: str
    node_id: str
    name: str
    department_id: int | None
    department_path: str
    role: str
    assignee_id: int | None
    status: str
    group: uuid.UUID | None
    group_rule: str
    previous_id: int | None
    limit_days: int | None
    due_at: object
    claimed_at: object
    kind: str = "step"
    created_at: object = None
    yellow_at: object = None
    paused_since: object = None
    process_key: str = ""

    @property
    def is_open(self) -> bool:
        return self.status in ("open", "claimed")

    @property
    def department_code(self) -> str:
        return department_code(self.department_id)


def _column(name: str) -> str:
    return f'"{name}"' if name == "group" else name  # GROUP is a reserved word


WORK_COLUMNS = tuple(f.name for f in fields(WorkRow))
_SELECT_WORK = f"SELECT {', '.join(_column(c) for c in WORK_COLUMNS)} FROM workflow_workitem"  # noqa: S608


@dataclass(slots=True)
class InstanceRow:
    id: int
    definition_id: int
    process_id: str
    subject: str
    status: str
    tokens: int
    joins: dict
    parent_id: int | None
    parent_node: str


def _uuid_param(value) -> object:
    """A UUID as the ORM stores it: native on PostgreSQL, 32 hex digits on SQLite."""
    if value is None:
        return None
    if not isinstance(value, uuid.UUID):
        value = _UUID_FIELD.to_python(value)
    return value if sql.is_postgresql() else value.hex


def _to_uuid(value) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


_datetime_param = sql.timestamp
_from_datetime = sql.from_timestamp


def _work(row) -> WorkRow:
    work = WorkRow(*row)
    work.public_id, work.group = _to_uuid(work.public_id), _to_uuid(work.group)
    work.due_at, work.claimed_at = _from_datetime(work.due_at), _from_datetime(work.claimed_at)
    work.created_at = _from_datetime(work.created_at)
    work.yellow_at, work.paused_since = _from_datetime(work.yellow_at), _from_datetime(work.paused_since)
    return work


def load_work(public_id) -> WorkRow | None:
    row = sql.one(f"{_SELECT_WORK} WHERE public_id = %s", [_uuid_param(public_id)])
    return _work(row) if row else None


def open_work_of(subject: str) -> list[WorkRow]:
    rows = sql.all_rows(
        f"{_SELECT_WORK} WHERE subject = %s AND status IN (%s, %s) ORDER BY created_at, id",
        [subject, "open", "claimed"],
    )
    return [_work(row) for row in rows]


def steps_of(subject: str) -> list[WorkRow]:
    """Every work item of a subject, open or done, in the order they were created."""
    return [
        _work(row)
        for row in sql.all_rows(f"{_SELECT_WORK} WHERE subject = %s ORDER BY created_at, id", [subject])
    ]


def completed_decisions(subject: str) -> list[str]:
    rows = sql.all_rows(
        "SELECT decision FROM workflow_workitem WHERE subject = %s AND status = %s AND kind = %s",
        [subject, "completed", "step"],
    )
    return [row[0] for row in rows]


def completed_opinions(subject: str) -> list[str]:
    rows = sql.all_rows(
        "SELECT opinion FROM workflow_workitem WHERE subject = %s AND status = %s AND kind = %s "
        "ORDER BY completed_at, id",
        [subject, "completed", "step"],
    )
    return [row[0] for row in rows]


def group_decisions(group: uuid.UUID) -> list[tuple[str, str]]:
    return sql.all_rows(
        'SELECT status, decision FROM workflow_workitem WHERE "group" = %s AND status <> %s ORDER BY id',
        [_uuid_param(group), "cancelled"],
    )


def cancel_open_in_group(group: uuid.UUID, now) -> int:
    return sql.execute(
        "UPDATE workflow_workitem SET status = %s, completed_at = %s "
        'WHERE "group" = %s AND status IN (%s, %s)',
        ["cancelled", _datetime_param(now), _uuid_param(group), "open", "claimed"],
    ).rowcount


def claim(work_id: int, user_id: int, now) -> bool:
    cursor = sql.execute(
        "UPDATE workflow_workitem SET status = %s, assignee_id = %s, claimed_at = %s "
        "WHERE id = %s AND status = %s",
        ["claimed", user_id, _datetime_param(now), work_id, "open"],
    )
    return cursor.rowcount == 1


def complete(work_id: int, user_id: int, decision: str, opinion: str, now) -> bool:
    """Only if still open and not someone else's: of two people finishing one step, one wins."""
    stamp = _datetime_param(now)
    cursor = sql.execute(
        "UPDATE workflow_workitem SET status = %s, decision = %s, opinion = %s, completed_at = %s, "
        "completed_by_id = %s, assignee_id = %s, claimed_at = COALESCE(claimed_at, %s) "
        "WHERE id = %s AND status IN (%s, %s) AND (assignee_id IS NULL OR assignee_id = %s)",
        ["completed", decision, opinion, stamp, user_id, user_id, stamp, work_id, "open", "claimed", user_id],
    )
    return cursor.rowcount == 1


_INSTANCE_COLUMNS = "id, definition_id, process_id, subject, status, tokens, joins, parent_id, parent_node"


def lock_instance(instance_id: int) -> InstanceRow:
    lock = " FOR UPDATE" if sql.is_postgresql() else ""
    statement = f"SELECT {_INSTANCE_COLUMNS} FROM workflow_processinstance WHERE id = %s{lock}"  # noqa: S608
    row = list(sql.one(statement, [instance_id]))
    if isinstance(row[6], str):
        row[6] = json.loads(row[6])
    return InstanceRow(*row)


def insert_instance(
    definition_id: int, process_id: str, subject: str, joins: dict, parent_id, parent_node, now
) -> InstanceRow:
    instance_id = sql.one(
        "INSERT INTO workflow_processinstance (definition_id, process_id, subject, status, tokens, "
        "joins, parent_id, parent_node, started_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        [
            definition_id,
            process_id,
            subject,
            "running",
            0,
            json.dumps(joins),
            parent_id,
            parent_node,
            _datetime_param(now),
        ],
    )[0]
    return InstanceRow(
        instance_id, definition_id, process_id, subject, "running", 0, joins, parent_id, parent_node
    )


def save_instance(instance: InstanceRow, completed_at=None) -> None:
    sql.execute(
        "UPDATE workflow_processinstance SET tokens = %s, joins = %s, status = %s, completed_at = %s "
        "WHERE id = %s",
        [
            instance.tokens,
            json.dumps(instance.joins),
            instance.status,
            _datetime_param(completed_at),
            instance.id,
        ],
    )


_INSERT_COLUMNS = (
    "public_id",
    "instance_id",
    "subject",
    "node_id",
    "name",
    "department_id",
    "department_path",
    "role",
    "assignee_id",
    "status",
    "group",
    "group_rule",
    "decision",
    "opinion",
    "previous_id",
    "limit_days",
    "due_at",
    "created_at",
    "claimed_at",
    "reminded",
    "kind",
    "paused_days",
    "next_reminder_at",
    "yellow_at",
    "process_key",
)


def insert_work(rows: list[dict]) -> list[WorkRow]:
    """Insert work items (dicts with _INSERT_COLUMNS keys) in one statement."""
    if not rows:
        return []
    columns = ", ".join(_column(c) for c in _INSERT_COLUMNS)
    placeholders = "(" + ", ".join(["%s"] * len(_INSERT_COLUMNS)) + ")"
    params = []
    for row in rows:
        for column in _INSERT_COLUMNS:
            value = row.get(column)
            if column == "public_id":
                value = _uuid_param(value)
            elif column == "group":
                value = _uuid_param(value) if value is not None else None
            elif column in ("due_at", "created_at", "claimed_at", "next_reminder_at", "yellow_at"):
                value = _datetime_param(value)
            elif column in ("decision", "opinion", "group_rule"):
                value = value or ""
            elif column == "reminded":
                value = 0
            elif column == "kind":
                value = value or "step"
            elif column == "paused_days":
                value = value or 0.0
            elif column == "process_key":
                value = value or ""
            params.append(value)
    statement = (
        f"INSERT INTO workflow_workitem ({columns}) VALUES {', '.join([placeholders] * len(rows))} "  # noqa: S608
        "RETURNING id"
    )
    ids = [r[0] for r in sql.all_rows(statement, params)]
    return [
        WorkRow(
            ids[i],
            row["public_id"],
            row["instance_id"],
            row["subject"],
            row["node_id"],
            row["name"],
            row.get("department_id"),
            row.get("department_path") or "",
            row["role"],
            row.get("assignee_id"),
            row["status"],
            row.get("group"),
            row.get("group_rule") or "",
            row.get("previous_id"),
            row.get("limit_days"),
            row.get("due_at"),
            row.get("claimed_at"),
            row.get("kind") or "step",
            row.get("created_at"),
            row.get("yellow_at"),
            None,
            row.get("process_key") or "",
        )
        for i, row in enumerate(rows)
    ]


def published_definition_id(key: str) -> int | None:
    row = sql.one(
        "SELECT id FROM workflow_processdefinition WHERE key = %s AND status = %s", [key, "published"]
    )
    return row[0] if row else None


# --- small caches of immutable reference data ----------------------------------------------------------

_departments: dict[str, tuple[int, str]] = {}
_department_codes: dict[int, str] = {}


def department(code: str) -> tuple[int, str] | None:
    """(id, path) of a department by code. Codes and paths never change once created."""
    found = _departments.get(code)
    if found is None:
        row = Department.objects.filter(code=code).values_list("id", "path").first()
        if row is None:
            return None
        _departments[code] = found = (row[0], row[1])
        _department_codes[row[0]] = code
    return found


def department_by_id(department_id: int) -> tuple[int, str]:
    """(id, path) of a department by id, from the same cache."""
    code = department_code(department_id)
    return department(code)


def department_code(department_id: int | None) -> str:
    if department_id is None:
        return ""
    code = _department_codes.get(department_id)
    if code is None:
        code = Department.objects.filter(pk=department_id).values_list("code", flat=True).first() or ""
        _department_codes[department_id] = code
    return code


def clear_caches() -> None:
    _departments.clear()
    _department_codes.clear()


def user_ids(usernames: list[str]) -> dict[str, int]:
    return dict(User.objects.filter(username__in=usernames, is_active=True).values_list("username", "id"))


# --- the worklist -------------------------------------------------------------------------------

COLOURS = ("red", "yellow", "green", "paused")
# As colour_of(): red once due, yellow from yellow_at, green before; a step without a limit has none.
_COLOUR_SQL = {
    "red": "paused_since IS NULL AND due_at < %s",
    "yellow": "paused_since IS NULL AND due_at >= %s AND yellow_at <= %s",
    "green": "paused_since IS NULL AND due_at >= %s AND (yellow_at IS NULL OR yellow_at > %s)",
    "paused": "paused_since IS NOT NULL",
}
_OPEN = "status IN ('open', 'claimed')"  # as the partial indexes' condition, so the planner uses them
# The same, qualified, for ORM queries (QuerySet.extra): with the statuses as bound parameters
# SQLite cannot tell that the partial indexes apply and reads the whole table.
OPEN_SQL = f"workflow_workitem.{_OPEN}"
# Worklist totals are exact up to here; beyond it the total is COUNT_CAP + 1, shown as "1,000+".
COUNT_CAP = 1000


def _prefix(prefix: str) -> str:
    """A LIKE pattern for a key prefix; prefixes are app names, never user input (no wildcards)."""
    if not re.fullmatch(r"[A-Za-z0-9:.-]+", prefix):
        raise ValueError(f"not a process key prefix: {prefix!r}")
    return prefix + "%"


def worklist(
    scopes: list[tuple[str, list[str]]],
    assignee_id: int | None,
    *,
    now,
    colour: str | None = None,
    process_key: str | None = None,
    due_before=None,
    kind: str | None = None,
    mine_only: bool = False,
    key_prefix: str | None = None,
    exclude_key_prefix: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[WorkRow], int]:
    """Open steps a person may take (their role in a department) or holds, soonest due first.

    With a million cases one department can have tens of thousands of open steps, so nothing here
    reads them all. Each way of reaching a step — an open step of one's role in one department, or
    a step one holds — is its own query that walks a partial index in due order and stops after
    offset + limit rows; the pages are merged (steps without a due date last). The queue index
    carries every filtered column, so filters and counts never read the table. The total is
    exact up to COUNT_CAP and COUNT_CAP + 1 beyond it.
    """
    queues = sorted({(role, path) for role, paths in ([] if mine_only else scopes) for path in paths})
    filters, filter_params = [], []
    stamp = _datetime_param(now)
    if colour:
        filters.append(_COLOUR_SQL[colour])
        filter_params += [stamp] * _COLOUR_SQL[colour].count("%s")
    if process_key:
        filters.append("process_key = %s")
        filter_params.append(process_key)
    if key_prefix:  # one app's processes ("document:"), or every other app's
        filters.append("process_key LIKE %s")
        filter_params.append(_prefix(key_prefix))
    if exclude_key_prefix:
        filters.append("process_key NOT LIKE %s")
        filter_params.append(_prefix(exclude_key_prefix))
    if due_before is not None:
        filters.append("due_at < %s")
        filter_params.append(_datetime_param(due_before))
    if kind:
        filters.append("kind = %s")
        filter_params.append(kind)
    ways = [
        (f"{_OPEN} AND department_path = %s AND role = %s AND status = %s", [path, role, "open"])
        for role, path in queues
    ]
    if assignee_id is not None:
        ways.append((f"{_OPEN} AND assignee_id = %s", [assignee_id]))
    if not ways:
        return [], 0
    ways = [(" AND ".join([where, *filters]), [*params, *filter_params]) for where, params in ways]

    # Counted up to COUNT_CAP + 1 per way: nobody pages through a thousand steps, and an exact
    # count of tens of thousands would cost more than the page itself. Held steps that are also
    # open in one of one's queues are counted with the queue only.
    counted = list(ways)
    if queues and assignee_id is not None:
        membership = " OR ".join(["(department_path = %s AND role = %s)"] * len(queues))
        where, params = counted[-1]
        counted[-1] = (
            f"{where} AND NOT (status = %s AND ({membership}))",
            [*params, "open", *[v for role, path in queues for v in (path, role)]],
        )
    counts = " UNION ALL ".join(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM workflow_workitem WHERE {w} LIMIT {COUNT_CAP + 1}) AS c{i}"  # noqa: S608
        for i, (w, _p) in enumerate(counted)
    )
    total = min(
        COUNT_CAP + 1, sum(row[0] for row in sql.all_rows(counts, [v for _w, p in counted for v in p]))
    )

    # First the page's ids, from the indexes alone; then only those rows, in that order.
    wanted = offset + limit
    undated = colour in (None, "paused") and due_before is None  # other filters need a due date
    parts, params = [], []
    for where, values in ways:
        parts.append(
            f"SELECT * FROM (SELECT id, due_at FROM workflow_workitem WHERE {where} "  # noqa: S608
            f"AND due_at IS NOT NULL ORDER BY due_at, id LIMIT {wanted}) AS d{len(parts)}"
        )
        params += values
        if undated:
            parts.append(
                f"SELECT * FROM (SELECT id, due_at FROM workflow_workitem WHERE {where} "  # noqa: S608
                f"AND due_at IS NULL ORDER BY id LIMIT {wanted}) AS d{len(parts)}"
            )
            params += values
    # Raw due dates compare correctly as they come: all text (SQLite) or all datetimes (PostgreSQL).
    keys = sorted(
        {(due is None, due or "", pk) for pk, due in sql.all_rows(" UNION ALL ".join(parts), params)}
    )
    page = [pk for _undated, _due, pk in keys[offset:wanted]]
    if not page:
        return [], total
    placeholders = ", ".join(["%s"] * len(page))
    found = {row[0]: row for row in sql.all_rows(f"{_SELECT_WORK} WHERE id IN ({placeholders})", page)}
    return [_work(found[pk]) for pk in page if pk in found], total  # a step done meanwhile drops out
