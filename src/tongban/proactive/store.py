"""Writing a matching run's rows in plain SQL; this module owns that SQL.

A run over a hundred thousand enterprises records one row per enterprise that qualifies (or may)
for something and one per 免申即享 grant — through the ORM's bulk_create that is a million values
prepared one by one. Here the rows arrive with their JSON already written (the run builds each
distinct fragment once) and go in a few multi-row INSERTs (core.sql.insert_rows).
"""

from tongban.core import sql

from .models import Benefit, SubjectMatch


def insert_matches(run_id: int, rows: list[tuple[str, str, str]]) -> int:
    """(subject key, results JSON, values JSON) of one run."""
    return sql.insert_rows(
        SubjectMatch,
        ["run_id", "subject_key", "results", "values"],
        [(run_id, key, results, values) for key, results, values in rows],
    )


def insert_benefits(rows: list[tuple]) -> int:
    """(reference, policy id, subject key, run id, granted at, reasons JSON, values JSON)."""
    return sql.insert_rows(
        Benefit,
        ["reference", "policy_id", "subject_key", "run_id", "granted_at", "reasons", "values"],
        rows,
    )
