"""An index on when the server received each trace (retention and "last run" read it, not the client's
started_at), built CONCURRENTLY on PostgreSQL so adding it to a large table does not hold up ingestion."""

from django.db import migrations, models

INDEX = models.Index(fields=["organisation", "received_at"], name="trace_org_received")


def add_index(apps, schema_editor):
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.add_index(apps.get_model("traces", "Trace"), INDEX, **concurrently)


def remove_index(apps, schema_editor):
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.remove_index(apps.get_model("traces", "Trace"), INDEX, **concurrently)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("traces", "0004_trace_tags_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="trace", index=INDEX)],
            database_operations=[migrations.RunPython(add_index, remove_index)],
        ),
    ]
