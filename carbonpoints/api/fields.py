"""Request fields shared by the API's serializers: what every write refuses the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

MAX_AMOUNT = 10**12
"""The largest count of points, grams or fen a request may name: far beyond any real amount, well
inside the database's 64-bit integers (a larger number used to fail the insert with a 500)."""


class AmountField(serializers.IntegerField):
    """A whole amount (points, grams, fen, units of stock): 0 or 1 up, at most ``MAX_AMOUNT``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_AMOUNT)
        super().__init__(**kwargs)


class AwareDateTimeField(serializers.DateTimeField):
    """A time with its offset (docs/design.md#conventions); a naive time is refused
    rather than guessed in the server's zone."""

    default_error_messages = {
        "naive": _("Give the time with its offset, e.g. 2026-12-01T08:00:00+08:00.")
    }

    def enforce_timezone(self, value: datetime) -> datetime:
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)
