"""The error shape in the OpenAPI schema: one component, referenced by every error answer."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

_DESCRIPTIONS = {
    400: "The request is not valid (`invalid`: `details` maps fields to messages) or malformed.",
    401: "Not signed in, or a bad partner signature.",
    403: "The signed-in party may not do this.",
    404: "No such object (or not yours).",
    409: "Refused by the state of things (see the code).",
    413: "The body is too large.",
    422: "Understood, but nothing can be done with it.",
    429: "Too many requests or wrong codes: `details.retry_after_s`, and a Retry-After header.",
    503: "A service behind the API is unreachable for a moment: retry later.",
}


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="snake_case, machine-readable")
    message = serializers.CharField(help_text="for people, in the request's language")
    details = serializers.DictField(help_text="figures behind the refusal; per field for `invalid`")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """``responses={200: X, **errors(404, 409)}``: the error answers an operation can give."""
    return {
        status: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[status])
        for status in statuses
    }


def add_common_errors(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Postprocessing hook: every operation may answer 429 (rate limits) and 503 (a service behind
    it unreachable), and every operation that needs a signed-in party 401."""
    from drf_spectacular.plumbing import ResolvedComponent  # noqa: F401  (spectacular is loaded)

    ref = {"$ref": "#/components/schemas/Error"}
    body = {"content": {"application/json": {"schema": ref}}}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            statuses = [429, 503]
            security = operation.get("security", [])
            if security and {} not in security:
                statuses.append(401)
            for status in statuses:
                responses.setdefault(str(status), {"description": _DESCRIPTIONS[status], **body})
    return result


def page_of(serializer_class: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The shape of one page of ``serializer_class`` items (``carbonpoints.api.pagination``), for
    views that paginate by hand."""
    name = serializer_class.__name__.removesuffix("Serializer")
    return type(
        f"Paginated{name}ListSerializer",
        (serializers.Serializer,),
        {
            "__module__": __name__,
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )
