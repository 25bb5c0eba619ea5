"""Values read on every request, kept in the cache (Redis in production) and dropped when a
write changes them: a read after a committed write never sees the old value.

Each id has a *generation*, a random token in the cache, replaced by every write to the rows
behind the value (:meth:`ReadCache.forget`), and so has the whole cache (:meth:`forget_all`,
for writes that touch everyone, such as a ranking). A value is stored with the generations read
before it was computed and is used only while they are current. A reader that computed from the
rows before a write committed may store its old value, but never under the generation the write
set: the next reader misses and reads the database. The generations are renewed when the writer's
transaction commits, and at once as well (the writer's own later reads, in its transaction, see
its writes). One ``MGET`` per read. A generation's expiry is longer than any value's, so an expired
generation cannot bring an old value back.

What stays the writer's duty: every write to those rows forgets the value (a model's save or
delete, through signals; a write in SQL or a bulk statement, by calling ``forget``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")

_NONE = "-"  # the generation of an id no write has touched (or whose generation expired)


class ReadCache(Generic[T]):
    def __init__(self, name: str, *, timeout_s: int) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self.generation_timeout_s = 2 * timeout_s + 60

    @property
    def _prefix(self) -> str:
        # Ids are unique within one database: a Redis shared by two (tests and a benchmark, two
        # deployments) must not serve one's rows to the other.
        return f"rc:{settings.DATABASES['default']['NAME']}:{self.name}"

    def _generation_key(self, ident: object) -> str:
        return f"{self._prefix}:g:{ident}"

    def keys(self, ident: object) -> tuple[str, str, str]:
        """The cache keys one read of ``ident`` reads: the whole cache's generation, ``ident``'s
        generation and its value."""
        prefix = self._prefix
        return f"{prefix}:g", f"{prefix}:g:{ident}", f"{prefix}:v:{ident}"

    def get(
        self, ident: object, load: Callable[[], T], *, read: Mapping[str, Any] | None = None
    ) -> T:
        """The value of ``ident``: from the cache while its generations are current, else ``load()``.

        ``read``: what a caller read of :meth:`keys` already (as ``cache.get_many`` answers it),
        in a round trip it shared with other reads; it is checked as one ``MGET`` here would be.
        """
        all_key, generation_key, value_key = self.keys(ident)
        found = cache.get_many([all_key, generation_key, value_key]) if read is None else read
        generations = (found.get(all_key, _NONE), found.get(generation_key, _NONE))
        stored = found.get(value_key)
        if stored is not None and stored[0] == generations:
            return stored[1]
        value = load()
        cache.set(value_key, (generations, value), self.timeout_s)
        return value

    def forget(self, ident: object) -> None:
        """The rows behind ``ident``'s value changed (or will, when the transaction commits)."""
        self.forget_many([ident])

    def forget_many(self, idents: Iterable[object]) -> None:
        self._renew([self._generation_key(ident) for ident in idents])

    def forget_all(self) -> None:
        """Rows behind every value changed (a recomputation for everyone)."""
        self._renew([f"{self._prefix}:g"])

    def _renew(self, keys: list[str]) -> None:
        if not keys:
            return

        def renew() -> None:
            token = secrets.token_hex(8)
            set_same = getattr(cache, "set_same", None)  # our Redis cache: one command for all
            if set_same is not None:
                set_same(keys, token, self.generation_timeout_s)
            else:
                cache.set_many(dict.fromkeys(keys, token), self.generation_timeout_s)

        renew()
        if transaction.get_connection().in_atomic_block:
            # robust: the write has committed; a cache that fails now must not answer it as a
            # failure (the values' own expiry bounds what stays stale until the cache is back)
            transaction.on_commit(renew, robust=True)
