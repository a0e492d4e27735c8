"""Set-based writes: many rows of one table in one statement, whatever the batch size."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import psycopg
from django.db import connection, models

_encode = msgspec.json.Encoder().encode


def update_rows(model: type[models.Model], rows: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write `fields` of the given instances back to their rows.

    PostgreSQL: one `UPDATE … FROM jsonb_to_recordset($1)`, the rows encoded by msgspec into one bound parameter
    (Django's bulk_update builds a CASE per field over every row, and its client-side binding quotes each value
    into the SQL text in Python: together many times the cost of the evaluations themselves). Each value is read
    by its column's own type, so a value the column refuses (too long, out of range) fails as it would on save.
    Other databases (SQLite, the embedded default) use bulk_update.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(rows, fields, batch_size=500)
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    pk = quote(meta.pk.column)
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns[1:])
    definitions = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in columns)
    # Only the model's own table, column names and types are formatted in; every value is in the bound document.
    sql = (f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608  # nosec B608
           f"FROM jsonb_to_recordset($1::jsonb) AS v({definitions}) WHERE t.{pk} = v.{pk}")
    document = _encode([{f.column: getattr(row, f.attname) for f in columns} for row in rows]).decode()
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.RawCursor(connection.connection) as cursor:
        cursor.execute(sql, [document], prepare=False)
