"""The explorer sorted by duration: a partial index on (organisation, duration_ms, id) over runs that recorded
one, read forwards or backwards. Built CONCURRENTLY on PostgreSQL so adding it to a large table does not hold
up ingestion."""

from django.db import migrations, models

INDEX = models.Index(condition=models.Q(duration_ms__isnull=False), fields=["organisation", "duration_ms", "id"],
                     name="trace_org_duration")


def add_index(apps, schema_editor):
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.add_index(apps.get_model("traces", "Trace"), INDEX, **concurrently)


def remove_index(apps, schema_editor):
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.remove_index(apps.get_model("traces", "Trace"), INDEX, **concurrently)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("traces", "0005_trace_received_at_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="trace", index=INDEX)],
            database_operations=[migrations.RunPython(add_index, remove_index)],
        ),
    ]
