"""A million cases for the latency benchmarks, in states the service layer produces.

Template cases are driven through the real services (apply, accept, claim, complete, supplement,
decide, issue, withdraw, rate) for several items in several departments; their rows — case,
materials, events, process instances, work items — are then copied with new ids, numbers,
applicants, UUIDs and shifted timestamps. Every copied case is therefore a state some sequence of
service calls produced; only the names, keys and dates differ. (The audit journal is not copied:
the copies were never actions of anyone.)
"""

import datetime as dt
import json
import random
import uuid

from django.db import connection, transaction

# How the million is spread over states (share of cases), most of them long finished.
STATES = {
    "issued": 0.80,
    "rated": 0.05,
    "withdrawn": 0.03,
    "decided": 0.02,
    "submitted": 0.02,
    "review_open": 0.04,
    "review_claimed": 0.015,
    "approve_open": 0.015,
    "supplement": 0.01,
}
OPEN_STATES = {"submitted", "review_open", "review_claimed", "approve_open", "supplement", "decided"}

TABLES = {
    "cases_case": "id",
    "cases_casematerial": "id",
    "core_domainevent": "id",
    "workflow_processinstance": "id",
    "workflow_workitem": "id",
}
UUID_COLUMNS = {"workflow_workitem": ("public_id", "group"), "core_domainevent": ("work_item",)}
JSON_COLUMNS = {
    "cases_case": ("data", "decision_basis"),
    "core_domainevent": ("detail",),
    "workflow_processinstance": ("joins",),
}


def columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, table)
    return [c.name for c in description]


def _is_time(column: str) -> bool:
    return column.endswith("_at") or column in ("paused_since",)


class Template:
    """The rows of one case made by the services, ready to be copied."""

    def __init__(self, number: str, state: str):
        self.state = state
        self.rows: dict[str, list[dict]] = {}
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM cases_case WHERE number = %s", [number])
            (case_id,) = cursor.fetchone()
            for table, where, param in (
                ("cases_case", "id = %s", case_id),
                ("cases_casematerial", "case_id = %s", case_id),
                ("core_domainevent", "subject_kind = 'case' AND subject_id = %s", number),
                ("workflow_processinstance", "subject = %s", number),
                ("workflow_workitem", "subject = %s", number),
            ):
                names = columns(table)
                cursor.execute(
                    f"SELECT {', '.join(_q(n) for n in names)} FROM {table} WHERE {where} ORDER BY id",
                    [param],
                )
                self.rows[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        self.number = number
        for rows in self.rows.values():
            for row in rows:
                for name, value in row.items():
                    if _is_time(name) and isinstance(value, str):
                        row[name] = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
                    elif _is_time(name) and isinstance(value, dt.datetime) and value.tzinfo is None:
                        row[name] = value.replace(tzinfo=dt.UTC)


def _q(name: str) -> str:
    return f'"{name}"' if name == "group" else name


class Writer:
    """Buffered inserts with explicit ids: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self):
        self.vendor = connection.vendor
        self.buffers: dict[str, list[tuple]] = {t: [] for t in TABLES}
        self.columns = {t: columns(t) for t in TABLES}
        self.next_id = {}
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                self.next_id[table] = cursor.fetchone()[0] + 1

    def new_id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] += 1
        return value

    def add(self, table: str, row: dict) -> None:
        self.buffers[table].append(tuple(self._value(table, c, row[c]) for c in self.columns[table]))

    def _value(self, table, column, value):
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return str(value.astimezone(dt.UTC).replace(tzinfo=None)) if self.vendor == "sqlite" else value
        if column in JSON_COLUMNS.get(table, ()) and not isinstance(value, str):
            return json.dumps(value, ensure_ascii=False)
        if isinstance(value, uuid.UUID):
            return value.hex if self.vendor == "sqlite" else value
        return value

    def flush(self) -> None:
        with transaction.atomic():
            self._flush()

    def _flush(self) -> None:
        raw = connection.connection
        for table, rows in self.buffers.items():
            if not rows:
                continue
            names = self.columns[table]
            if self.vendor == "sqlite":
                listed = ", ".join(_q(n) for n in names)
                raw.cursor().executemany(
                    f"INSERT INTO {table} ({listed}) VALUES ({', '.join('?' * len(names))})",
                    rows,
                )
            else:
                listed = ", ".join(_q(n) for n in names)
                with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({listed}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            rows.clear()

    def finish(self) -> None:
        self.flush()
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                for table in TABLES:
                    top = f"(SELECT MAX(id) FROM {table})"
                    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {top})")
                # As after any bulk load (autovacuum would get there later): statistics for the
                # planner, and the visibility map that lets counts read the indexes alone.
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
            else:
                cursor.execute("ANALYZE")


def copy_case(
    template: Template, writer: Writer, serial: int, applicant_id: int, shift: dt.timedelta
) -> None:
    number = f"{template.number[:6]}9{serial:013d}"
    ids: dict[tuple[str, int], int] = {}
    uuids: dict[str, uuid.UUID] = {}

    def new_uuid(value):
        if value is None:
            return None
        key = value.hex if isinstance(value, uuid.UUID) else str(value).replace("-", "")
        if key not in uuids:
            uuids[key] = uuid.uuid4()
        return uuids[key]

    for table in (
        "cases_case",
        "workflow_processinstance",
        "workflow_workitem",
        "cases_casematerial",
        "core_domainevent",
    ):
        for row in template.rows[table]:
            ids[(table, row["id"])] = writer.new_id(table)
    case_old = template.rows["cases_case"][0]["id"]
    for table in (
        "cases_case",
        "workflow_processinstance",
        "workflow_workitem",
        "cases_casematerial",
        "core_domainevent",
    ):
        for source in template.rows[table]:
            row = dict(source)
            row["id"] = ids[(table, source["id"])]
            for name, value in source.items():
                if isinstance(value, dt.datetime):
                    row[name] = value - shift
            if table == "cases_case":
                row.update(number=number, applicant_id=applicant_id, idempotency_key="")
                if source["process_instance_id"]:
                    row["process_instance_id"] = ids[
                        ("workflow_processinstance", source["process_instance_id"])
                    ]
            elif table == "cases_casematerial":
                row["case_id"] = ids[("cases_case", case_old)]
            elif table == "core_domainevent":
                row["subject_id"] = number
            elif table == "workflow_processinstance":
                row["subject"] = number
                if source["parent_id"]:
                    row["parent_id"] = ids[("workflow_processinstance", source["parent_id"])]
            elif table == "workflow_workitem":
                row["subject"] = number
                if source["instance_id"]:
                    row["instance_id"] = ids[("workflow_processinstance", source["instance_id"])]
                if source["previous_id"]:
                    row["previous_id"] = ids[("workflow_workitem", source["previous_id"])]
            for name in UUID_COLUMNS.get(table, ()):
                row[name] = new_uuid(source[name])
            writer.add(table, row)


def generate(
    templates: list[Template], total: int, applicants: list[int], progress=None, seed: int = 2026
) -> dict:
    """Copy the templates into `total` cases in the STATES mix; returns counts per state."""
    rng = random.Random(seed)
    by_state: dict[str, list[Template]] = {}
    for template in templates:
        by_state.setdefault(template.state, []).append(template)
    states = [s for s in STATES if s in by_state]
    weights = [STATES[s] for s in states]
    writer = Writer()
    counts = dict.fromkeys(states, 0)
    batch = 5000
    for serial in range(total):
        state = rng.choices(states, weights)[0]
        template = rng.choice(by_state[state])
        days = rng.randint(0, 20) if state in OPEN_STATES else rng.randint(0, 700)
        shift = dt.timedelta(days=days, minutes=rng.randint(0, 600))
        copy_case(template, writer, serial, rng.choice(applicants), shift)
        counts[state] += 1
        if (serial + 1) % batch == 0:
            writer.flush()
            if progress:
                progress(batch)
    writer.finish()
    if progress:
        progress(total % batch)
    return counts
