from django.db import migrations, models


class Migration(migrations.Migration):
    """OCEL 2.0 files as a source of event logs (flattened on a chosen object type)."""

    dependencies = [
        ("insight", "0004_redesign"),
    ]

    operations = [
        migrations.AlterField(
            model_name="eventlog",
            name="source",
            field=models.CharField(
                choices=[
                    ("xes", "XES file"),
                    ("csv", "CSV file"),
                    ("parquet", "Parquet file"),
                    ("ocel", "OCEL 2.0 file"),
                    ("cases", "our case events"),
                ],
                max_length=10,
                verbose_name="source",
            ),
        ),
    ]
