"""Partial indexes for the explorer's "runs of this session / user", built CONCURRENTLY on PostgreSQL so
adding them to a large table does not hold up ingestion."""

from django.db import migrations, models

INDEXES = [
    models.Index(condition=~models.Q(session_id=""), fields=["organisation", "session_id", "-started_at"],
                 name="trace_org_session"),
    models.Index(condition=~models.Q(user_id=""), fields=["organisation", "user_id", "-started_at"],
                 name="trace_org_user"),
]


def add_indexes(apps, schema_editor):
    trace = apps.get_model("traces", "Trace")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    for index in INDEXES:
        schema_editor.add_index(trace, index, **concurrently)


def remove_indexes(apps, schema_editor):
    trace = apps.get_model("traces", "Trace")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    for index in INDEXES:
        schema_editor.remove_index(trace, index, **concurrently)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("traces", "0002_trace_text_search")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="trace", index=index) for index in INDEXES],
            database_operations=[migrations.RunPython(add_indexes, remove_indexes)],
        ),
    ]
