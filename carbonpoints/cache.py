"""Django's Redis cache, keeping one Redis client per connection pool instead of one per call.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache operation.
With redis-py 8 that constructor fills a table of ~170 response callbacks each time: about
0.2–0.5 ms of CPU per call on our machine, and an API request makes three or four cache calls
(the session behind ``X-Session-Token``, the throttle's read and write). The connections live in
the pool either way; a ``redis.Redis`` holding a pool is thread-safe and follows forks (the pool
checks its pid), so one client per pool per process is enough.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write: bool = False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client

    def set_many(self, data, timeout):
        """Each key set with its expiry by one ``SET … EX`` (Django's writes ``MULTI``, ``MSET``, an
        ``EXPIRE`` per key and ``EXEC``); one key is one command without a pipeline. The read
        caches renewed a generation this way at every ledger posting, twice (at once and at
        commit; they use ``RedisCache.set_same`` now, which sets one key the same way). Keys are
        set one by one, not all at once, which no caller here relies on."""
        client = self.get_client(None, write=True)
        if timeout == 0:
            client.delete(*data)
            return
        dumps = self._serializer.dumps
        if len(data) == 1:
            ((key, value),) = data.items()
            client.set(key, dumps(value), ex=timeout)
            return
        pipeline = client.pipeline(transaction=False)
        for key, value in data.items():
            pipeline.set(key, dumps(value), ex=timeout)
        pipeline.execute()


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with :class:`RedisCacheClient`."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def set_same(self, keys: list[str], value: object, timeout: int | None) -> None:
        """Set every key in ``keys`` to the same ``value`` for ``timeout`` seconds: one command.

        ``set_many`` sends an ``MSET`` and then an ``EXPIRE`` per key in one ``MULTI`` block: a
        batch of 1,000 credited citizens renewed its read-cache generations with 2,000 commands
        packed and parsed one by one in Python (``bench/profile_ingest``: 3.2 of 6.9 s of an
        intake request's profiled time). One script call sets them all, atomically as before.
        """
        if not keys:
            return
        if timeout is None or timeout <= 0:  # forever, or gone at once: Django's own semantics
            self.set_many(dict.fromkeys(keys, value), timeout)
            return
        if len(keys) == 1:  # a single posting's citizen: one plain SET … EX, no script to send
            self._cache.get_client(None, write=True).set(
                self.make_key(keys[0]), self._cache._serializer.dumps(value), ex=int(timeout)
            )
            return
        names = "\n".join(self.make_key(key) for key in keys)  # ours: no memcached-style checks
        if "\n" in "".join(keys):
            raise ValueError("a key of set_same holds a line break")
        self._cache.get_client(None, write=True).eval(
            _SET_SAME, 0, names, self._cache._serializer.dumps(value), int(timeout)
        )


_SET_SAME = """
local n = 0
for key in string.gmatch(ARGV[1], "[^\\n]+") do
    redis.call('SET', key, ARGV[2], 'EX', ARGV[3])
    n = n + 1
end
return n
"""
"""Lua, so the keys are all set in one command (a script runs atomically, like MULTI/EXEC).

The key names travel as one argument, one per line: packing each as its own argument was most of
what was left of the call in Python. Redis Cluster would want them declared (``KEYS``); this
cache is one Redis."""
