"""One error shape: ``{"error": {"code", "message", "details"}}`` (docs/design.md#errors)."""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from carbonpoints.error_codes import CommonErrorCode
from carbonpoints.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TooLarge,
    Unauthenticated,
    Unprocessable,
)

from .error_codes import ApiErrorCode

_CODES = {
    exceptions.ValidationError: CommonErrorCode.INVALID,
    exceptions.ParseError: CommonErrorCode.MALFORMED_REQUEST,
    exceptions.NotAuthenticated: ApiErrorCode.NOT_AUTHENTICATED,
    exceptions.AuthenticationFailed: ApiErrorCode.AUTHENTICATION_FAILED,
    exceptions.PermissionDenied: CommonErrorCode.PERMISSION_DENIED,
    exceptions.NotFound: CommonErrorCode.NOT_FOUND,
    exceptions.MethodNotAllowed: ApiErrorCode.METHOD_NOT_ALLOWED,
    exceptions.NotAcceptable: ApiErrorCode.NOT_ACCEPTABLE,
    exceptions.UnsupportedMediaType: ApiErrorCode.UNSUPPORTED_MEDIA_TYPE,
    exceptions.Throttled: ApiErrorCode.THROTTLED,
}
"""DRF's own refusals (before a view runs, or its serializers'), by class."""


def error_body(code: str, message: str, details: dict | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (Forbidden, 403),
    (Invalid, 400),
    (Unprocessable, 422),
    (Conflict, 409),
    (Unauthenticated, 401),
    (TooLarge, 413),
)
"""The status of each kind of refusal; any other refusal is a conflict (409)."""


def domain_status(error: DomainError | type[DomainError]) -> int:
    """The status a domain error answers with, by its kind (a plain refusal: 409)."""
    kind = error if isinstance(error, type) else type(error)
    return next((status for base, status in DOMAIN_STATUS if issubclass(kind, base)), 409)


def domain_error_body(error: DomainError) -> dict[str, Any]:
    return error_body(error.code, str(error), error.details)


def _code_for(exc: exceptions.APIException) -> str:
    for cls in type(exc).__mro__:
        if cls in _CODES:
            return _CODES[cls]
    return exc.default_code if isinstance(exc.default_code, str) else "error"


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """The one exception handler: every refusal (a ``DomainError``, or DRF's own) in the one shape."""
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(domain_error_body(exc), status=domain_status(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):  # a service's ``full_clean()``: invalid, per field
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return None
    code = _code_for(exc)
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        message = "The request is not valid; see details."
    else:
        details = {}
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
        return JsonResponse(error_body(CommonErrorCode.NOT_FOUND, "No such resource."), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    from .unavailable import current_exception_is_unavailable, unavailable_response

    if current_exception_is_unavailable():
        return unavailable_response(request)
    if _is_api(request):
        return JsonResponse(
            error_body(ApiErrorCode.SERVER_ERROR, "Something went wrong on our side."), status=500
        )
    return defaults.server_error(request)


def bad_request(request, exception=None):
    if _is_api(request):
        return JsonResponse(
            error_body(ApiErrorCode.BAD_REQUEST, "The request is malformed."), status=400
        )
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _is_api(request):
        return JsonResponse(
            error_body(CommonErrorCode.PERMISSION_DENIED, "Not allowed."), status=403
        )
    return defaults.permission_denied(request, exception)
