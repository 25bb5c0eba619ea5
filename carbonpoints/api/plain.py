"""Output serializers for read-only lists that write their answer as plain values.

A DRF serializer calls every declared field for every row (``get_attribute``,
``to_representation``, ordered dicts): for a page of 20 actions that cost more than the
queries behind it. A :class:`PlainSerializer` keeps its declared fields, which document the
answer in the OpenAPI schema (drf-spectacular reads them), but its ``plain`` writes each row's
answer directly, from a selector's plain row (``values()``), with the values the fields would
write: ``iso_datetime`` as ``DateTimeField``, ``decimal_text`` as the API's quantities. Tests
prove each one answers what its declared fields answered for the same object.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from django.utils import timezone
from rest_framework import serializers

_PAGE_ZONE: ContextVar[tzinfo | None] = ContextVar("plain_page_zone", default=None)
"""The current time zone, read once for a page of rows (:class:`PlainListSerializer`)."""


def iso_datetime(value: datetime | None) -> str | None:
    """What ``DateTimeField`` writes (``DATETIME_FORMAT`` iso-8601): in the current time zone,
    ``Z`` for UTC."""
    if value is None:
        return None
    zone = _PAGE_ZONE.get()
    if zone is None or value.tzinfo is None:  # a naive time is refused by localtime, as by DRF
        text = timezone.localtime(value).isoformat()
    else:
        text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def decimal_text(value: Decimal | None) -> str | None:
    """A quantity without trailing zeros or exponent (``2.500000`` → ``2.5``)."""
    return None if value is None else format(value.normalize(), "f")


class PlainSerializer(serializers.BaseSerializer):
    # A read-only serializer whose rows are written by ``plain``; its declared fields only
    # document them (mix it in before Serializer or ModelSerializer). No docstring: drf-spectacular
    # would show it as the description of every serializer without one of its own.

    def plain(self, row: Any) -> dict[str, Any]:
        raise NotImplementedError

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return self.plain(instance)

    @classmethod
    def many_init(cls, *args: Any, **kwargs: Any) -> Any:
        serializer = super().many_init(*args, **kwargs)
        if type(serializer) is serializers.ListSerializer:
            serializer.__class__ = PlainListSerializer  # the same list, its rows written plainly
        return serializer


class PlainListSerializer(serializers.ListSerializer):
    # A page of a PlainSerializer's rows: the current time zone is read once for the page, not
    # once per time in it (``timezone.localtime`` reads it from a context-local each call: a
    # tenth of a page's CPU). No docstring, as above.

    def to_representation(self, data: Any) -> list[Any]:
        token = _PAGE_ZONE.set(timezone.get_current_timezone())
        try:
            return super().to_representation(data)
        finally:
            _PAGE_ZONE.reset(token)
