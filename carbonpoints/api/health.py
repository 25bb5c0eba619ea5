"""``/healthz``: is the database reachable, and Redis when one is configured."""

import functools

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


@functools.cache
def _redis(url: str) -> redis.Redis:
    """One client (and connection pool) per process, not a new connection per probe."""
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def _check_redis() -> str:
    if not settings.REDIS_URL:
        return "not_configured"
    _redis(settings.REDIS_URL).ping()
    return "ok"


@never_cache
def healthz(request):
    checks = {}
    for name, check in (("database", _check_database), ("redis", _check_redis)):
        try:
            checks[name] = check()
        except Exception as exc:  # the point is to report any failure, whatever it is
            checks[name] = f"error: {exc.__class__.__name__}"
    healthy = all(value in ("ok", "not_configured") for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )
