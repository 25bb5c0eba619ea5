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

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from rest_framework import serializers


def iso_datetime(value: datetime | None) -> str | None:
    """What ``DateTimeField`` writes (``DATETIME_FORMAT`` iso-8601): in the current time zone,
    ``Z`` for UTC."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
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
