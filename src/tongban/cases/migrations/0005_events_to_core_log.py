"""Cases' domain events move to the core event log (core.DomainEvent), and CaseEvent goes.

Every row is copied as it is — activity, lifecycle, time, actor, department, channel, work item,
detail — with the case's number as the subject and version 1 (the only version a case activity
has had). Rows go in id order in one INSERT … SELECT, so the new ids keep the old order and a
case's history reads the same (time, then id). tests/cases/test_event_migration.py checks count,
order and replay on a database made with the schema before this migration.

CaseEvent is dropped rather than kept read-only: nothing writes it any more, and a second copy of
the log is one that readers could pick by mistake and that would silently go stale. Going back
copies the case events into a new CaseEvent table and takes them off the core log.
"""

from django.db import migrations

_COPIED = "lifecycle, occurred_at, actor_id, actor_label, department_code, channel, work_item, detail"


def _copy_forward(apps, schema_editor):
    schema_editor.execute(
        "INSERT INTO core_domainevent (subject_kind, subject_id, activity, version, "  # noqa: S608
        f"{_COPIED}) SELECT 'case', c.number, e.activity, 1, "
        + ", ".join(f"e.{column.strip()}" for column in _COPIED.split(","))
        + " FROM cases_caseevent e JOIN cases_case c ON c.id = e.case_id ORDER BY e.id"
    )


def _copy_back(apps, schema_editor):
    schema_editor.execute(
        f"INSERT INTO cases_caseevent (case_id, activity, {_COPIED}) "  # noqa: S608
        "SELECT c.id, d.activity, "
        + ", ".join(f"d.{column.strip()}" for column in _COPIED.split(","))
        + " FROM core_domainevent d JOIN cases_case c ON c.number = d.subject_id "
        "WHERE d.subject_kind = 'case' ORDER BY d.id"
    )
    schema_editor.execute("DELETE FROM core_domainevent WHERE subject_kind = 'case'")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_case_number_day"),
        ("core", "0003_event_log"),
    ]

    operations = [
        # Reversed, these run bottom-up: the table comes back, then the copy fills it.
        migrations.RunPython(_copy_forward, _copy_back),
        migrations.DeleteModel(name="CaseEvent"),
    ]
