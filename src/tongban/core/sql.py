"""Plain SQL for the hot paths, run on the DB-API connection Django holds open.

Each staff step of a case runs about ten short statements. Through Django's cursor wrapper every
statement also pays for connection-proxy lookups, the query-logging check and, on SQLite, a regex
rewrite of its placeholders — together about as long as SQLite takes to run the statement. Here
the SQL is written once with %s placeholders, rewritten for SQLite once per distinct string and
run on the raw cursor inside the caller's Django transaction (Django has already begun it).
Database errors come out as Django's own (IntegrityError and friends), as through the ORM.

Only modules that own hot-path SQL (the `store` modules and the journal) use this.
"""

import datetime as dt
import json
import re

from django.db import DEFAULT_DB_ALIAS, connections

_QMARK = re.compile(r"(?<!%)%s")
_sqlite_sql: dict[str, str] = {}


def _for_sqlite(sql: str) -> str:
    converted = _sqlite_sql.get(sql)
    if converted is None:
        converted = _sqlite_sql[sql] = _QMARK.sub("?", sql).replace("%%", "%")
    return converted


def execute(sql: str, params=(), using: str = DEFAULT_DB_ALIAS):
    """Run one statement and return the DB-API cursor (for fetchone/fetchall/rowcount).

    `using` names another database for reads that may go to a replica (core.replicas.read_alias)."""
    wrapper = connections[using]
    if wrapper.connection is None:
        wrapper.ensure_connection()
    if wrapper.vendor == "sqlite":
        sql = _for_sqlite(sql)
    cursor = wrapper.connection.cursor()
    with wrapper.wrap_database_errors:
        cursor.execute(sql, params)
    return cursor


def one(sql: str, params=(), using: str = DEFAULT_DB_ALIAS) -> tuple | None:
    return execute(sql, params, using).fetchone()


def all_rows(sql: str, params=(), using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
    return execute(sql, params, using).fetchall()


def is_postgresql() -> bool:
    return connections[DEFAULT_DB_ALIAS].vendor == "postgresql"


_UTC = dt.UTC


def timestamp(value: dt.datetime | None):
    """A timestamp as the ORM stores it: aware on PostgreSQL, naive UTC text on SQLite."""
    if value is None:
        return None
    wrapper = connections[DEFAULT_DB_ALIAS]
    if wrapper.vendor != "sqlite":
        return value
    if value.tzinfo is None:
        return wrapper.ops.adapt_datetimefield_value(value)
    return str(value.astimezone(_UTC).replace(tzinfo=None))


def from_timestamp(value):
    """A timestamp column as read back raw: SQLite gives naive UTC text, PostgreSQL aware datetimes."""
    if value is None or isinstance(value, dt.datetime):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=_UTC)
        return value
    return dt.datetime.fromisoformat(value).replace(tzinfo=_UTC)


# --- model instances from plain SQL ---------------------------------------------------------------

_shapes: dict[type, tuple] = {}


def _shape(model) -> tuple:
    """Column list and per-column converters of a model, worked out once."""
    shape = _shapes.get(model)
    if shape is None:
        from django.db import models as m

        fields = list(model._meta.concrete_fields)
        converters = []
        for field in fields:
            if isinstance(field, m.DateTimeField):
                converters.append(from_timestamp)
            elif isinstance(field, m.DateField):
                converters.append(_to_date)
            elif isinstance(field, m.BooleanField):
                converters.append(_to_bool)
            elif isinstance(field, m.UUIDField):
                converters.append(_to_uuid)
            elif hasattr(field, "from_db_value"):
                converters.append(_field_converter(field))
            else:
                converters.append(None)
        columns = ", ".join(f'"{f.column}"' for f in fields)
        shape = _shapes[model] = (columns, [f.attname for f in fields], converters)
    return shape


def _to_date(value):
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _to_bool(value):
    return None if value is None else bool(value)


def _to_uuid(value):
    import uuid

    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(value)


def _field_converter(field):
    def convert(value):
        wrapper = connections[DEFAULT_DB_ALIAS]
        return field.from_db_value(value, None, wrapper)

    return convert


def models(model, where: str, params=(), order: str = "") -> list:
    """Instances of `model` for the rows matching `where`, without the ORM's query compiler.

    For read paths that run on every page view: the SQL is a fixed string, the values are converted
    the way the ORM would, and the instances behave like any loaded from the database.
    """
    columns, names, converters = _shape(model)
    table = model._meta.db_table
    # Table and columns come from the model; `where` and `order` are the caller's fixed SQL text.
    statement = f'SELECT {columns} FROM "{table}" WHERE {where}'  # noqa: S608
    if order:
        statement += f" ORDER BY {order}"
    result = []
    for row in all_rows(statement, params):
        values = [
            c(v) if c is not None and v is not None else v for c, v in zip(converters, row, strict=True)
        ]
        result.append(model.from_db(DEFAULT_DB_ALIAS, names, values))
    return result


# --- many rows of a model in a few statements -----------------------------------------------------

_MAX_PARAMETERS = 30_000  # below SQLite's default limit (32,766) and PostgreSQL's (65,535)


def insert_rows(model, fields: list[str], rows: list[tuple]) -> int:
    """Insert rows of `model` (values in the order of `fields`, attnames such as ``run_id``) in
    multi-row INSERTs inside the caller's transaction, without the ORM's per-value preparation —
    for a use case that writes a hundred thousand rows at once.

    Values are bound as given, but for these: a JSON field takes its JSON text, a timestamp goes
    through `timestamp`. Fields not named get their model default.
    On PostgreSQL the rows go through COPY, which loads them about twice as fast as the longest
    INSERT it takes. Returns the number of rows."""
    from django.db import models as m

    if not rows:
        return 0
    by_name = {f.attname: f for f in model._meta.concrete_fields}
    unknown = [name for name in fields if name not in by_name]
    if unknown:
        raise ValueError(f"{model.__name__} has no field {unknown[0]}")
    named = [by_name[name] for name in fields]
    defaults = [f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in fields]
    default_values = []
    for f in defaults:
        value = f.get_default()  # as the ORM would: blank text is "", an optional field null
        if value is None and not f.null:
            raise ValueError(f"{model.__name__}.{f.name} has no default; name it")
        if isinstance(f, m.JSONField):
            value = json.dumps(value)
        elif isinstance(f, m.DateTimeField):
            value = timestamp(value)
        default_values.append(value)
    columns = [*named, *defaults]
    timestamps = [i for i, f in enumerate(named) if isinstance(f, m.DateTimeField)]
    if is_postgresql():
        return copy_rows(
            model._meta.db_table,
            [f.column for f in columns],
            (
                (*[timestamp(v) if i in timestamps else v for i, v in enumerate(row)], *default_values)
                if timestamps
                else (*row, *default_values)
                for row in rows
            ),
        )
    placeholders = ", ".join(["%s"] * len(columns))
    per_statement = max(1, _MAX_PARAMETERS // len(columns))
    head = (
        f'INSERT INTO "{model._meta.db_table}" '  # noqa: S608 - names come from the model
        f"({', '.join(chr(34) + f.column + chr(34) for f in columns)}) VALUES "
    )
    stamps: dict = {}  # rows written together mostly share their times
    for start in range(0, len(rows), per_statement):
        batch = rows[start : start + per_statement]
        params: list = []
        for row in batch:
            if timestamps:
                row = list(row)
                for i in timestamps:
                    value = row[i]
                    row[i] = stamps[value] if value in stamps else stamps.setdefault(value, timestamp(value))
            params.extend(row)
            params.extend(default_values)
        execute(head + ", ".join([f"({placeholders})"] * len(batch)), params)
    return len(rows)


def copy_rows(table: str, columns: list[str], rows) -> int:
    """PostgreSQL only: rows (values in the order of `columns`, as the driver adapts them; JSON as
    its text) through COPY FROM STDIN, in the caller's transaction. The caller owns the names."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    if wrapper.connection is None:
        wrapper.ensure_connection()
    names = ", ".join(f'"{c}"' for c in columns)
    statement = f'COPY "{table}" ({names}) FROM STDIN'
    count = 0
    with wrapper.wrap_database_errors, wrapper.connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count
