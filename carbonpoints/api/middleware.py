"""The app's API calls pass only the middleware they need.

A call of the mobile app or a partner (under ``/api/``, no browser session cookie, not asking
for HTML) authenticates by its token or signature and answers JSON: it needs no session,
CSRF, authentication-from-session or messages middleware, no Content-Security-Policy (no
document is rendered) and no static files. Those cost a tenth of a cached read's CPU. Such a
call runs ``settings.API_MIDDLEWARE`` instead (security headers and SSL redirect, host checks,
the request's language, framing, allauth's context, 503 when a service is away); every other
request, including the browsable API, the docs (``DOCUMENTS``) and anything signed in with a
session cookie,
runs ``settings.MIDDLEWARE`` as before.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.http import HttpRequest, HttpResponse

API_PREFIX = "/api/"
DOCUMENTS = ("/api/v1/docs/", "/api/v1/redoc/", "/api/v1/schema/")
"""Pages under the prefix meant for browsers and people (Swagger UI, ReDoc, the schema)."""


def is_app_call(request: HttpRequest) -> bool:
    path = request.path_info
    return (
        path.startswith(API_PREFIX)
        and not path.startswith(DOCUMENTS)
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "text/html" not in request.META.get("HTTP_ACCEPT", "")
    )


class _Chain(BaseHandler):
    """Django's own middleware loading, of a given list (it reads ``settings.MIDDLEWARE``: the
    list is put there while it loads, once, when the server starts)."""

    def __init__(self, middleware: list[str]) -> None:
        saved = settings.MIDDLEWARE
        settings.MIDDLEWARE = middleware
        try:
            self.load_middleware()
        finally:
            settings.MIDDLEWARE = saved


class APICallMiddleware:
    """First in ``MIDDLEWARE``: app calls go through ``API_MIDDLEWARE`` only (module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.api_chain: Callable[[HttpRequest], HttpResponse] = _Chain(
            settings.API_MIDDLEWARE
        )._middleware_chain  # type: ignore[attr-defined]  # set by load_middleware

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_app_call(request):
            return self.api_chain(request)
        return self.get_response(request)
