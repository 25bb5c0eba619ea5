"""A service behind the app (PostgreSQL, Redis) unreachable for a moment: 503, never 500.

Requests that need it answer 503 with the error shape and a ``Retry-After``; the app keeps no
broken state (Django drops an unusable database connection at the end of the request, and
reconnects on the next), so it recovers by itself when the service is back. ``bench/drill``
proves it by cutting PostgreSQL off for 10 s.
"""

from __future__ import annotations

import logging
import sys

import redis
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError

from .error_codes import ApiErrorCode

logger = logging.getLogger(__name__)
RETRY_AFTER_S = 5
UNAVAILABLE = (
    OperationalError,
    InterfaceError,
    redis.ConnectionError,
    redis.TimeoutError,
    BrokerError,
)


def is_unavailable(exc: BaseException | None) -> bool:
    """The database or the broker could not be reached (or dropped the connection)."""
    return isinstance(exc, UNAVAILABLE)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    message = _("A service is unavailable for a moment. Try again in a few seconds.")
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {
                "error": {
                    "code": ApiErrorCode.SERVICE_UNAVAILABLE,
                    "message": message,
                    "details": {"retry_after_s": RETRY_AFTER_S},
                }
            },
            status=503,
        )
    else:
        response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


class ServiceUnavailableMiddleware:
    """Answers 503 when a view fails because a service is unreachable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_unavailable(exception):
            return None
        logger.warning("503 for %s: %s: %s", request.path, exception.__class__.__name__, exception)
        return unavailable_response(request)


def current_exception_is_unavailable() -> bool:
    """For the 500 handler: the exception being handled (raised before any view ran, e.g. by a
    middleware reading the session) was an unreachable service."""
    return is_unavailable(sys.exc_info()[1])
