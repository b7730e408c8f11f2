"""Each case's submission event names what the case is filed under (item or bundle, and the
version), as cases write it from now on: insight finds the cases of an item in the event log
instead of in the case tables. One UPDATE per kind of target; merging into a JSON detail is said
differently by SQLite and PostgreSQL, hence the two spellings.
"""

from django.db import migrations

_TARGETS = (
    # (key, version key, the case's version column, version table, its parent column, parent table)
    ("item", "item_version", "item_version_id", "catalog_itemversion", "item_id", "catalog_serviceitem"),
    ("bundle", "bundle_version", "bundle_version_id", "catalog_bundleversion", "bundle_id", "catalog_bundle"),
)


def _name_targets(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for key, version_key, column, versions, parent, parents in _TARGETS:
        if postgresql:
            merged = (
                f"core_domainevent.detail || jsonb_build_object('{key}', p.code, '{version_key}', c.{column})"
            )
        else:
            merged = f"json_patch(core_domainevent.detail, json_object('{key}', p.code, '{version_key}', c.{column}))"
        schema_editor.execute(
            f"UPDATE core_domainevent SET detail = {merged} "  # noqa: S608
            f"FROM cases_case c JOIN {versions} v ON v.id = c.{column} JOIN {parents} p ON p.id = v.{parent} "
            "WHERE core_domainevent.subject_kind = 'case' AND core_domainevent.activity = 'case.submitted' "
            "AND core_domainevent.subject_id = c.number"
        )


def _unname_targets(apps, schema_editor):
    keys = [k for target in _TARGETS for k in target[:2]]
    if schema_editor.connection.vendor == "postgresql":
        removed = "detail" + "".join(f" - '{k}'" for k in keys)
    else:
        removed = "json_remove(detail, " + ", ".join(f"'$.{k}'" for k in keys) + ")"
    schema_editor.execute(
        f"UPDATE core_domainevent SET detail = {removed} "  # noqa: S608
        "WHERE subject_kind = 'case' AND activity = 'case.submitted'"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_events_to_core_log"),
        ("catalog", "0001_initial"),
    ]

    operations = [migrations.RunPython(_name_targets, _unname_targets)]
