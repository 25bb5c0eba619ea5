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
        limit = "" if index.stop is None else f" LIMIT {int(index.stop) - int(start)}"
        with connection.cursor() as cursor:
            cursor.execute(f"{self._select}{limit} OFFSET {int(start)}", self._params)
            return [dict(zip(self._columns, row, strict=True)) for row in cursor.fetchall()]
