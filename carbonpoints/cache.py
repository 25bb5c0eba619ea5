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
        caches renew a generation this way at every ledger posting, twice (at once and at
        commit): a fifth of a redemption's cache CPU (docs/performance/redeem.md). Keys are set
        one by one, not all at once, which no caller here relies on."""
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
