"""Trigram indexes for the explorer's search of input and output (PostgreSQL only).

They index the expressions the search filters on, UPPER(input::text) and UPPER(output::text), so a
substring search is an index lookup instead of a scan of every run. Built CONCURRENTLY: adding them to a
large table does not block ingestion.

Unlike the other tenant indexes they do not lead with organisation_id: led by it (btree_gin), the planner
prices in the organisation's whole posting list and falls back to scanning runs in time order (measured
339 ms against 45 ms for a text in 1 run of 5,000 at 1,000,000 runs). The organisation is still filtered on
every search, and a distributed PostgreSQL (Citus) builds these per shard like any other index.
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
