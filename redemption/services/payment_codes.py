"""Writes of payment codes: the one-time codes a till scans to take points."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import CarbonAccount

from ..exceptions import InsufficientPoints
from ..models import PaymentCode
from ..selectors import citizen_points_available


def payment_code_issue(*, citizen: CarbonAccount) -> PaymentCode:
    """A fresh 18-digit code the till scans; valid a few minutes, used once. Refused while the
    citizen has no points: the till could take nothing with it, and would only fail there."""
    if citizen_points_available(citizen) <= 0:
        raise InsufficientPoints()
    now = timezone.now()
    return PaymentCode.objects.create(
        citizen=citizen,
        code=f"{secrets.randbelow(10**18):018d}",
        created_at=now,
        expires_at=now + timedelta(seconds=settings.REDEMPTION_PAYMENT_CODE_TTL_S),
    )


def _payment_code_use(code: str) -> tuple[int, int] | None:
    """Mark a valid, unused code used; ``(code id, citizen id)``, or ``None`` when it is not.

    One conditional ``UPDATE … RETURNING``: tills scanning one code at once queue on its row, and
    the ones after the first find it used.
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {PaymentCode._meta.db_table} SET used_at = %s "
            "WHERE code = %s AND used_at IS NULL AND expires_at > %s RETURNING id, citizen_id",
            [now, code, now],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None
