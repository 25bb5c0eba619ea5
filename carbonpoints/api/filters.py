"""Query parameters through django-filter: each list endpoint declares a FilterSet, which parses
and validates its parameters (a bad one answers 400 ``invalid`` with ``details`` per parameter);
the endpoint's selector then does the filtering with the cleaned values."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django_filters
from django import forms
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django_filters.utils import translate_validation

MAX_OFFSET = timedelta(hours=14)
"""The widest offset in use (UTC+14); PostgreSQL refuses some beyond it (found by schemathesis)."""


class OffsetDateTimeField(forms.Field):
    """An ISO-8601 time with its offset (``2026-11-28T08:00:00+08:00``); a naive time is refused,
    since the server could only guess the zone it meant, and so is an offset no zone has."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        try:
            parsed = parse_datetime(str(value))
        except ValueError:
            parsed = None
        offset = parsed.utcoffset() if parsed is not None else None
        if parsed is None or offset is None or abs(offset) > MAX_OFFSET:
            raise forms.ValidationError(_("ISO-8601 with an offset."), code="invalid")
        return parsed


class OffsetDateTimeFilter(django_filters.Filter):
    field_class = OffsetDateTimeField


_UNFILTERED: dict[type, dict[str, Any]] = {}
"""Each FilterSet's cleaned values when none of its parameters is given."""


def query_params(filterset_class: type[django_filters.FilterSet], request: Any) -> dict[str, Any]:
    """The request's query parameters, parsed and validated by ``filterset_class``.

    Most requests name none of them (the app's first page): their values are then the same
    every time, kept after the first such request instead of building the FilterSet and its form
    again (a tenth of a list request's CPU). A parameter starting with a filter's name counts as
    given (django-filter's range filters read ``<name>_min`` and the like)."""
    given = request.query_params
    unfiltered = not any(
        key.startswith(name) for key in given for name in filterset_class.base_filters
    )
    if unfiltered and filterset_class in _UNFILTERED:
        return dict(_UNFILTERED[filterset_class])
    filterset = filterset_class(given, request=request)
    if not filterset.is_valid():
        raise translate_validation(filterset.errors)
    cleaned = dict(filterset.form.cleaned_data)
    if unfiltered:
        _UNFILTERED[filterset_class] = dict(cleaned)
    return cleaned


def filter_parameters(filterset_class: type[django_filters.FilterSet]) -> list[Any]:
    """The FilterSet's parameters for the OpenAPI schema (``extend_schema(parameters=...)``), so
    the schema says exactly what ``query_params`` accepts."""
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    parameters = []
    for name, filter_ in filterset_class.base_filters.items():
        enum = None
        if isinstance(filter_, OffsetDateTimeFilter):
            kind = OpenApiTypes.DATETIME
        elif isinstance(filter_, django_filters.BooleanFilter):
            kind = OpenApiTypes.BOOL
        elif isinstance(filter_, django_filters.NumberFilter):
            kind = OpenApiTypes.INT
        else:
            kind = OpenApiTypes.STR
            if isinstance(filter_, django_filters.ChoiceFilter):
                enum = [str(value) for value, _label in filter_.extra["choices"]]
        parameters.append(
            OpenApiParameter(
                name,
                kind,
                OpenApiParameter.QUERY,
                enum=enum,
                description=str(filter_.extra.get("help_text", "")),
            )
        )
    return parameters
