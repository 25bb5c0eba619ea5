"""A list read with SQL written once, paged by Django's paginator as a query set would be.

For the API's most read lists: building and compiling the page's and the count's ORM queries
cost about as much CPU as running them (``docs/performance/api.md``). :class:`SQLRows` holds one
``SELECT`` (without ``LIMIT``) and its ``COUNT``; ``count()`` runs the count and a slice runs the
page with ``LIMIT`` and ``OFFSET``, each row a dict by column name. The statements are built
from the model's table and column names, so a renamed field fails loudly in the tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import connection


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
        with connection.cursor() as cursor:
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
            with connection.cursor() as cursor:
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
        with connection.cursor() as cursor:
            cursor.execute(f"{self._select}{limit} OFFSET {int(start)}", self._params)
            return [dict(zip(self._columns, row, strict=True)) for row in cursor.fetchall()]
