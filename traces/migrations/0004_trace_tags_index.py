"""A GIN index on tags (jsonb_path_ops) for `tags @> '["tag"]'`, the explorer's and the API's tag filter.
PostgreSQL only; built CONCURRENTLY so adding it to a large table does not hold up ingestion. Not led by
organisation_id, for the reason given in 0002."""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS trace_tags_gin ON traces_trace USING gin (tags jsonb_path_ops)")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS trace_tags_gin")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("traces", "0003_trace_session_user_indexes")]

    operations = [migrations.RunPython(create_index, drop_index)]
