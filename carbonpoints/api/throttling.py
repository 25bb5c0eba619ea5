"""DRF's per-user and anonymous rate limits, counted with one Redis round trip per request.

DRF's throttles keep each client's recent request times as a list in the cache: a read and a
write per request (two Redis round trips, the list unpickled and pickled again, growing with the
rate), and two concurrent requests of one client can overwrite each other's entry. Here each
client has one counter per window of the rate's period ("6000/min": a minute, aligned to the
clock), incremented and given its expiry in one pipelined round trip; ``INCR`` is atomic. The
price: a client can pass up to twice its rate across a window's boundary (the end of one window
and the start of the next), acceptable for limits meant against abuse. Without a Redis cache
(``bin/serve`` without ``REDIS_URL``: local memory) DRF's own algorithm runs unchanged.
"""

from __future__ import annotations

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache import cache as default_cache
from rest_framework import throttling

from carbonpoints.cache import RedisCache


def _redis_backend(cache) -> RedisCache | None:
    """The Redis cache behind ``cache`` (DRF's default is Django's proxy to the default cache)."""
    backend = caches[DEFAULT_CACHE_ALIAS] if cache is default_cache else cache
    return backend if isinstance(backend, RedisCache) else None


class _WindowCounter(throttling.SimpleRateThrottle):
    """Fixed-window counting for a ``SimpleRateThrottle``; see the module's docstring."""

    _window_end: float | None = None
    num_requests: int  # set from the rate by SimpleRateThrottle.__init__
    duration: int

    def allow_request(self, request, view) -> bool:
        backend = _redis_backend(self.cache)
        if self.rate is None or backend is None:
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        key = backend.make_and_validate_key(f"{self.key}:{window}")
        count = _counted_ahead(request, key)
        if count is None:
            client = backend._cache.get_client(key, write=True)
            pipe = client.pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, self.duration)  # the key of a past window is never read again
            count, _ = pipe.execute()
        self._window_end = (window + 1) * self.duration
        return count <= self.num_requests

    def wait(self) -> float | None:
        if self._window_end is None:
            return super().wait()
        return max(0.0, self._window_end - self.now)


class UserRateThrottle(_WindowCounter, throttling.UserRateThrottle):
    """``rest_framework.throttling.UserRateThrottle`` (rate ``user``), one round trip per request.

    When the request's sign-in counted it already (``accounts.authentication.one_read``: the
    same key, the signed-in user's, in the same window), the count is taken as it is, without
    building the key again."""

    def allow_request(self, request, view) -> bool:
        read = getattr(getattr(request, "_request", request), "read_ahead", None)
        if type(self) is UserRateThrottle and read is not None and read.throttle is not None:
            if self.rate is not None:
                _key, count, self._window_end = read.throttle
                read.throttle = None  # counted once
                self.now = self.timer()
                return count <= self.num_requests
        return super().allow_request(request, view)


def _counted_ahead(request, key: str) -> int | None:
    """The count of ``key`` with this request, if the request's sign-in counted it already in its
    one round trip (``accounts.authentication.one_read``); once."""
    read = getattr(getattr(request, "_request", request), "read_ahead", None)
    if read is None or read.throttle is None or read.throttle[0] != key:
        return None
    count: int = read.throttle[1]
    read.throttle = None
    return count


def user_rate_window(view, *, user_id: str) -> tuple[str, int, int] | None:
    """``(key, seconds, end)`` of the current window of the per-user rate limit, with ``user_id`` in
    the key (before the cache's prefix), when ``view`` counts its requests per user in Redis."""
    classes = getattr(view, "throttle_classes", ())
    if not any(isinstance(c, type) and issubclass(c, UserRateThrottle) for c in classes):
        return None
    throttle = UserRateThrottle()
    if throttle.rate is None or _redis_backend(throttle.cache) is None:
        return None
    window = int(throttle.timer() // throttle.duration)
    ident = throttle.cache_format % {"scope": throttle.scope, "ident": user_id}
    return f"{ident}:{window}", throttle.duration, (window + 1) * throttle.duration


class AnonRateThrottle(_WindowCounter, throttling.AnonRateThrottle):
    """``rest_framework.throttling.AnonRateThrottle`` (rate ``anon``), one round trip per request."""


class ScopedThrottle(_WindowCounter):
    """A rate of ``DEFAULT_THROTTLE_RATES[scope]`` per identity that ``ident`` names.

    Subclasses say what is counted (a user, a partner, a merchant); ``None`` counts nothing.
    """

    scope = ""

    def ident(self, request, view) -> object | None:
        raise NotImplementedError

    def get_cache_key(self, request, view) -> str | None:
        ident = self.ident(request, view)
        return None if ident is None else self.cache_format % {"scope": self.scope, "ident": ident}


class FailureThrottle(ScopedThrottle):
    """Counts failures (wrong codes), not requests: once ``rate`` failures fall in one window,
    every request of that identity is refused until the window ends (429 with Retry-After).

    ``allow_request`` only reads the count; the view calls ``failure_record`` when its answer is
    a failure (see ``CountsFailures``). One counter per window of the rate's period, as above.
    """

    def _counter_key(self) -> str:
        return f"{self.key}:{int(self.now // self.duration)}"

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        self._window_end = (int(self.now // self.duration) + 1) * self.duration
        return (self.cache.get(self._counter_key()) or 0) < self.num_requests

    def failure_record(self, request, view) -> None:
        if self.rate is None:
            return
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return
        self.now = self.timer()
        key = self._counter_key()
        self.cache.add(key, 0, self.duration)
        try:
            self.cache.incr(key)
        except ValueError:  # expired between add and incr: this failure starts the next window
            self.cache.add(key, 1, self.duration)


class CountsFailures:
    """View mixin: ``extra_throttle_classes`` join DRF's defaults, and an error answer whose code
    is in ``failure_codes`` counts against every ``FailureThrottle`` of the view."""

    extra_throttle_classes: tuple[type[throttling.BaseThrottle], ...] = ()
    failure_codes: frozenset[str] = frozenset()

    def get_throttles(self):
        return [*super().get_throttles(), *(cls() for cls in self.extra_throttle_classes)]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        data = getattr(response, "data", None)
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) and error.get("code") in self.failure_codes:
            for throttle in self.get_throttles():
                if isinstance(throttle, FailureThrottle):
                    throttle.failure_record(request, self)
        return response
