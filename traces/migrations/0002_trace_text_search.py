"""Trigram indexes for the explorer's search of input and output (PostgreSQL only).

They index the expressions the search filters on, UPPER(input::text) and UPPER(output::text), so a
substring search is an index lookup instead of a scan of every run. Built CONCURRENTLY: adding them to a
large table does not block ingestion.
"""

from django.db import migrations

INDEXES = {
    "trace_input_trgm": "UPPER((input)::text)",
    "trace_output_trgm": "UPPER((output)::text)",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON traces_trace USING gin ({expression} gin_trgm_ops)")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("traces", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
