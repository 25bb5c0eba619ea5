"""Lists of thousands of values as one query parameter: ``field__any=[...]`` and ``pg_array``.

``field__in=[...]`` puts one placeholder per value into the SQL; with the thousands of ids a
pipeline chunk asks about, formatting and parsing those placeholders cost more than the query
(psycopg splits the statement on every ``%s``), and psycopg's own list adaptation formats each
element in Python. ``pg_array`` writes the array literal in one ``join``; the ``any`` lookup
sends it as ``= ANY(%s::type[])`` on PostgreSQL and falls back to ``IN`` elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db.models import Field, ForeignObject
from django.db.models.lookups import In


def _element(value) -> str:
    if value is None:
        return "NULL"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return _quoted(str(value))


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pg_array(values: Iterable) -> str:
    """A PostgreSQL array literal of ints, decimals, booleans, datetimes, strings or None, for a
    ``%s::type[]`` parameter. A column of one type is written without a call per element."""
    values = list(values)
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if kinds <= {int}:
        body = ",".join(
            ["NULL" if v is None else str(v) for v in values]
            if None in values
            else map(str, values)
        )
    elif all(issubclass(kind, str) for kind in kinds):
        if None not in values:
            # one look at the whole text instead of two replacements per value: member ids, codes
            # and external ids rarely hold a quote or a backslash (looked for in the values joined
            # without a separator: '","' holds quotes itself, which sent every list the slow way)
            flat = "".join(values)
            if '"' not in flat and "\\" not in flat:
                return '{"' + '","'.join(values) + '"}'
        body = ",".join(
            [
                "NULL"
                if v is None
                else '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
                for v in values
            ]
        )
    elif kinds <= {datetime}:
        body = ",".join(["NULL" if v is None else v.isoformat() for v in values])
    elif kinds <= {bool}:
        body = ",".join(["NULL" if v is None else "t" if v else "f" for v in values])
    else:
        body = ",".join(map(_element, values))
    return "{" + body + "}"


class Any(In):
    """Pass a set, not a list: Django walks lists and tuples value by value looking for expressions."""

    lookup_name = "any"

    def get_prep_lookup(self):
        if all(type(value) in (int, str) for value in self.rhs):
            return self.rhs  # nothing to prepare, and preparing thousands of values costs
        return super().get_prep_lookup()

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        db_type = field.rel_db_type(connection) if field.is_relation else field.db_type(connection)
        return f"{lhs} = ANY(%s::{db_type}[])", [
            *lhs_params,
            pg_array(v for v in self.rhs if v is not None),
        ]


Field.register_lookup(Any)
ForeignObject.register_lookup(Any)  # related fields keep lookups of their own
