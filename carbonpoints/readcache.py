"""Values read on every request, kept in the cache (Redis in production) and dropped when a
write changes them: a read after a committed write never sees the old value.

Each id has a *generation*, a random token in the cache, replaced by every write to the rows
behind the value (:meth:`ReadCache.forget`: at once, and again when the writer's transaction
commits). A value is stored with the generation read before it was computed and is used only
while that generation is current. So a reader that computed from the rows before a write
committed can store its old value, but never under the generation written after it: the next
reader misses and reads the database. One ``MGET`` per read; a generation outlives every value
stored under it (its expiry is longer), so an expired generation cannot revive an old value.

What stays the writer's duty: every write to those rows calls ``forget`` (a model's save or
delete, through signals; a write by SQL, by hand).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Generic, TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")

_NONE = "-"  # the generation of an id no write has touched (or whose generation expired)


class ReadCache(Generic[T]):
    def __init__(self, name: str, *, timeout_s: int) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self.generation_timeout_s = 2 * timeout_s + 60

    def _keys(self, ident: object) -> tuple[str, str]:
        return f"rc:{self.name}:g:{ident}", f"rc:{self.name}:v:{ident}"

    def get(self, ident: object, load: Callable[[], T]) -> T:
        """The value of ``ident``: from the cache while its generation is current, else ``load()``."""
        generation_key, value_key = self._keys(ident)
        found = cache.get_many([generation_key, value_key])
        generation = found.get(generation_key, _NONE)
        stored = found.get(value_key)
        if stored is not None and stored[0] == generation:
            return stored[1]
        value = load()
        cache.set(value_key, (generation, value), self.timeout_s)
        return value

    def forget(self, ident: object) -> None:
        """The rows behind ``ident``'s value changed: a new generation now and, inside a
        transaction, again when it commits (readers in between may store what they read)."""
        generation_key, _ = self._keys(ident)

        def renew() -> None:
            cache.set(generation_key, secrets.token_hex(8), self.generation_timeout_s)

        renew()
        if transaction.get_connection().in_atomic_block:
            transaction.on_commit(renew)
