from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("insight", "0005_ocel_source"),
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
                    ("events", "our event log"),
                ],
                max_length=10,
                verbose_name="source",
            ),
        ),
    ]
