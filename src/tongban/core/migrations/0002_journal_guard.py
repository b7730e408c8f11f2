from django.db import migrations


def install_guard(apps, schema_editor):
    from tongban.core import journal_guard

    journal_guard.install(schema_editor.connection)


def remove_guard(apps, schema_editor):
    from tongban.core import journal_guard

    journal_guard.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(install_guard, remove_guard)]
