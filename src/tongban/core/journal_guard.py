"""Database-level guard that makes the audit table append-only, per engine.

This module owns the one piece of engine-specific SQL in the kernel. UPDATE is refused on both
engines; DELETE is refused on PostgreSQL. (On SQLite Django's test flush deletes rows, and a
local attacker owns the file anyway.) The guard stops accidents and ORM mistakes; a database
administrator can drop it, which is why the HMAC chain, not the guard, is the real protection.
"""

TABLE = "core_auditentry"

_SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS tongban_audit_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit journal is append-only'); END""",
]
_SQLITE_REMOVE = ["DROP TRIGGER IF EXISTS tongban_audit_no_update"]

_PG_INSTALL = [
    """CREATE OR REPLACE FUNCTION tongban_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit journal is append-only'; END $$""",
    f"DROP TRIGGER IF EXISTS tongban_audit_append_only ON {TABLE}",
    f"""CREATE TRIGGER tongban_audit_append_only BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION tongban_audit_append_only()""",
]
_PG_REMOVE = [f"DROP TRIGGER IF EXISTS tongban_audit_append_only ON {TABLE}"]


def _statements(vendor: str, install: bool) -> list[str]:
    if vendor == "sqlite":
        return _SQLITE_INSTALL if install else _SQLITE_REMOVE
    if vendor == "postgresql":
        return _PG_INSTALL if install else _PG_REMOVE
    return []


def install(connection) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, True):
            cursor.execute(sql)


def remove(connection) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, False):
            cursor.execute(sql)
