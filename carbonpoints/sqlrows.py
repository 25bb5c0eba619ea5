"""A list read with SQL written once, paged by Django's paginator as a query set would be.

For the API's most read lists: building and compiling the page's and the count's ORM queries
cost about as much CPU as running them (``docs/performance/api.md``). :class:`SQLRows` holds one
``SELECT`` (without ``LIMIT``) and its ``COUNT``; ``count()`` runs the count and a slice runs the
page with ``LIMIT`` and ``OFFSET``, each row a dict by column name. The statements are built
from the model's table and column names, so a renamed field fails loudly in the tests. Each
statement is prepared once per connection and its times loaded by psycopg's C loader
(:func:`prepared_cursor`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor
from psycopg.types.datetime import TimestamptzLoader


class _PreparedCursor(ServerBindingCursor):
    """A psycopg cursor binding its parameters in the server and preparing each statement on its
    first run (``prepare=True``), for :func:`prepared_cursor`."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(
            query, params, prepare=True if prepare is None else prepare, binary=binary
        )


def prepared_cursor():
    """A cursor (Django's wrapper, so the health check, the query log, ``execute_wrappers`` and the
    errors' translation are as for any query) whose statements PostgreSQL parses and plans once
    per connection and then runs by name.

    For the few hand-written statements read on every request of a hot list: planning the
    actions' page took 0.8 of the 1.0–1.6 ms of PostgreSQL CPU it cost per request, against
    0.16 ms prepared (docs/performance/api.md, 2026-12-08 (session 8)). The project's connections
    bind on the client and prepare nothing (``prepare_threshold`` is psycopg's ``None``); this
    does so only for the statements run through it. Behind PgBouncer in transaction mode it
    needs PgBouncer ≥ 1.21 with ``max_prepared_statements`` set (psycopg's statements are the
    protocol's, which it tracks)."""
    cursor = connection.cursor()
    if connection.connection.prepare_threshold is None:  # Django's: psycopg prepares nothing,
        # even when asked. Its client-binding cursors (all the others) never prepare anyway.
        connection.connection.prepare_threshold = sys.maxsize  # so: only when asked
    cursor.cursor.close()  # the client-binding cursor Django made; the wrapper takes this one
    cursor.cursor = _PreparedCursor(connection.connection)
    # psycopg's own loader of times (its C one): Django's (``BaseTzLoader``) subclasses the
    # Python one to set the connection's zone, parsing each time in Python: a tenth of a page of
    # /me/actions' CPU. The same instant either way (the connection's zone is UTC), and the
    # lists write it in the current time zone (``carbonpoints.api.plain.iso_datetime``).
    cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
    return cursor


class SQLRows:
    ordered = True  # the SELECT has its ORDER BY (Django's paginator warns otherwise)

    def __init__(
        self, *, select: str, count: str, params: list[Any], columns: tuple[str, ...]
    ) -> None:
        self._select, self._count, self._params, self._columns = select, count, params, columns
        self._total: int | None = None
        self._page: tuple[int, int, list[dict[str, Any]]] | None = None  # start, size, rows

    def page_read(self, start: int, size: int) -> None:
        """Read the page ``[start:start + size]`` and the count in one statement, for the
        paginator's ``count()`` and slice that follow (``carbonpoints.api.pagination``).

        One statement instead of two: the count, then the page joined to it laterally (an empty
        page is one row of NULLs beside the count). PostgreSQL runs the same two scans; the
        client saves a round trip, its query's execution and its cursor: 0.2 of the 1.5 ms of
        CPU a page of ``/me/actions`` cost in process (docs/performance/api.md, 2026-12-08)."""
        if self._total is not None:
            return
        with prepared_cursor() as cursor:
            cursor.execute(
                f"SELECT t.total, q.* FROM ({self._count}) AS t(total) LEFT JOIN LATERAL"
                f" ({self._select} LIMIT {int(size)} OFFSET {int(start)}) AS q ON true",
                [*self._params, *self._params],
            )
            found = cursor.fetchall()
        self._total = found[0][0]
        empty = (None,) * len(self._columns)
        self._page = (
            int(start),
            int(size),
            [dict(zip(self._columns, row[1:], strict=True)) for row in found if row[1:] != empty],
        )

    def count(self) -> int:
        if self._total is None:
            with prepared_cursor() as cursor:
                cursor.execute(self._count, self._params)
                self._total = cursor.fetchone()[0]
        return self._total

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self[0:None])

    def __getitem__(self, index: slice) -> list[dict[str, Any]]:
        if not isinstance(index, slice) or index.step is not None:
            raise TypeError("SQLRows is read by slices of pages only")
        start = index.start or 0
        if (
            self._page is not None
            and self._page[0] == start
            and index.stop is not None
            and int(index.stop) - start <= self._page[1]
        ):
            return self._page[2][: int(index.stop) - start]
        limit = "" if index.stop is None else f" LIMIT {int(index.stop) - int(start)}"
        with prepared_cursor() as cursor:
            cursor.execute(f"{self._select}{limit} OFFSET {int(start)}", self._params)
            return [dict(zip(self._columns, row, strict=True)) for row in cursor.fetchall()]
