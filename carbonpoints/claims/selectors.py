"""Reads of claims: the citizen's, a partner's queue, and the overdue ones for operators."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from .models import Claim


def citizen_claims(*, account_id: int) -> QuerySet[Claim]:
    return (
        Claim.objects.filter(account_id=account_id)
        .select_related("partner", "record")
        .order_by("-created_at")
    )


def partner_claim(*, partner_id: int, claim_id: int) -> Claim | None:
    """One claim made to this partner (another partner's is not found)."""
    return (
        Claim.objects.select_related("link", "partner")
        .filter(pk=claim_id, partner_id=partner_id)
        .first()
    )


def partner_claims(
    *, partner_id: int, status: str | None = Claim.Status.PENDING
) -> QuerySet[Claim]:
    claims = (
        Claim.objects.filter(partner_id=partner_id).select_related("link").order_by("created_at")
    )
    return claims.filter(status=status) if status else claims


def claims_overdue(now: datetime | None = None) -> QuerySet[Claim]:
    """Claims still waiting for their partner past the deadline (``CLAIMS_PARTNER_DEADLINE_DAYS``)."""
    now = now or timezone.now()
    deadline = now - timedelta(days=settings.CLAIMS_PARTNER_DEADLINE_DAYS)
    return (
        Claim.objects.filter(status=Claim.Status.PENDING, created_at__lt=deadline)
        .select_related("partner")
        .order_by("created_at")
    )


def claims_undelivered(*, max_attempts: int) -> QuerySet[Claim]:
    """Pending claims whose partner has an active webhook that has not yet taken them."""
    return Claim.objects.filter(
        status=Claim.Status.PENDING,
        webhook_delivered_at__isnull=True,
        webhook_attempts__lt=max_attempts,
        partner__claim_webhook__active=True,
    )
