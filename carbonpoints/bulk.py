"""Set-based updates of many rows with different values, in one statement per chunk.

Django's ``bulk_update`` builds a ``CASE WHEN`` per row and field, which costs seconds for a few
thousand rows; ``UPDATE ... FROM jsonb_to_recordset(...)`` does the same in milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models

ROWS_PER_STATEMENT = 5000


def ids_draw(cursor: Any, table: str, n: int) -> list[int]:
    """``n`` new ids from ``table``'s ``id`` sequence, in one statement, for rows a COPY inserts.

    The sequence is named once, in a sub-select (an InitPlan, evaluated once per statement):
    ``nextval(pg_get_serial_sequence(…))`` looked the sequence up by name and cast it for every
    row, 3.6–4.8 ms of PostgreSQL CPU per 1,000 ids against 0.44–0.50 ms so
    (docs/performance/ingest.md, 2026-12-08 session 8)."""
    cursor.execute(
        f"SELECT nextval((SELECT pg_get_serial_sequence('{table}', 'id')::regclass)) "
        "FROM generate_series(1, %s)",
        [n],
    )
    return [row[0] for row in cursor.fetchall()]


def _json_value(value):
    if isinstance(value, datetime | date | Decimal | UUID):
        return str(value) if not isinstance(value, datetime | date) else value.isoformat()
    return value


def bulk_set(objects: Sequence[models.Model], fields: Sequence[str]) -> int:
    """Write ``fields`` of every object (which all have a primary key) to its row.

    One parameter per chunk for all its rows: ``jsonb_to_recordset`` types them by the columns'
    own types."""
    if not objects:
        return 0
    meta = type(objects[0])._meta
    columns: list[Any] = [meta.pk] + [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    pk = columns[0]
    record_type = ", ".join(
        f"{quote(field.column)} {field.db_type(connection)}" for field in columns
    )
    assignments = ", ".join(
        f"{quote(field.column)} = v.{quote(field.column)}" for field in columns[1:]
    )
    sql = (
        f"UPDATE {table} SET {assignments} FROM jsonb_to_recordset(%s::jsonb) AS v({record_type}) "
        f"WHERE {table}.{quote(pk.column)} = v.{quote(pk.column)}"
    )
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objects), ROWS_PER_STATEMENT):
            rows = [
                {field.column: _json_value(getattr(obj, field.attname)) for field in columns}
                for obj in objects[start : start + ROWS_PER_STATEMENT]
            ]
            cursor.execute(sql, [json.dumps(rows, cls=DjangoJSONEncoder)])
            updated += cursor.rowcount
    return updated


def insert_parts(instance: models.Model, *, exclude: Sequence[str] = ()) -> tuple[str, str, list]:
    """Table, column list and parameters that insert ``instance`` (every field but the id and
    ``exclude``), for hand-written inserts: ``ON CONFLICT … RETURNING``, or two rows in one ``WITH``."""
    fields = [
        f for f in instance._meta.concrete_fields if not f.primary_key and f.name not in exclude
    ]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    params = [f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in fields]
    return connection.ops.quote_name(instance._meta.db_table), columns, params
