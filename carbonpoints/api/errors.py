"""One error shape: ``{"error": {"code", "message", "details"}}`` (docs/design.md#errors)."""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from carbonpoints.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unprocessable
from carbonpoints.ledger.exceptions import LedgerError


class ApiError(exceptions.APIException):
    """A refusal with its own code, raised by views: ``raise ApiError(409, "out_of_stock", ...)``."""

    def __init__(self, status_code: int, code: str, message: str, details: dict | None = None):
        self.status_code = status_code
        self.code = code
        self.details = details or {}
        super().__init__(detail=message, code=code)


_CODES = {
    exceptions.ValidationError: "invalid",
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def error_body(code: str, message: str, details: dict | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


_DOMAIN_STATUS = ((NotFound, 404), (Forbidden, 403), (Invalid, 400), (Unprocessable, 422), (Conflict, 409))


def domain_status(error: DomainError) -> int:
    """The status a domain error answers with, by its kind (a plain refusal: 409)."""
    return next((status for kind, status in _DOMAIN_STATUS if isinstance(error, kind)), 409)


def domain_error_body(error: DomainError) -> dict[str, Any]:
    return error_body(error.code, str(error), error.details)


def _code_for(exc: exceptions.APIException) -> str:
    if isinstance(exc, ApiError):
        return exc.code
    for cls in type(exc).__mro__:
        if cls in _CODES:
            return _CODES[cls]
    return exc.default_code if isinstance(exc.default_code, str) else "error"


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DomainError):
        exc = ApiError(domain_status(exc), exc.code, str(exc), exc.details)
    elif isinstance(exc, LedgerError):
        exc = ApiError(status.HTTP_409_CONFLICT, exc.code, str(exc))
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return None
    code = _code_for(exc)
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        message = "The request is not valid; see details."
    else:
        details = getattr(exc, "details", {})
        message = str(exc.detail)
        wait = getattr(exc, "wait", None)
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            details = {"retry_after_s": max(1, math.ceil(wait))}
    response.data = error_body(code, message, details)
    return response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("not_found", "No such resource."), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    from .unavailable import current_exception_is_unavailable, unavailable_response

    if current_exception_is_unavailable():
        return unavailable_response(request)
    if _is_api(request):
        return JsonResponse(error_body("server_error", "Something went wrong on our side."), status=500)
    return defaults.server_error(request)


def bad_request(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("bad_request", "The request is malformed."), status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("permission_denied", "Not allowed."), status=403)
    return defaults.permission_denied(request, exception)
