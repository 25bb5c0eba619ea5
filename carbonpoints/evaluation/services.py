"""Badges awarded set-based (one read and one insert per badge rule), and leaderboard opt-in."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from accounts.ledger_accounts import REDUCTION
from accounts.models import Accrual, CarbonAccount
from carbonpoints.earn.models import ActionRecord, ActionState
from carbonpoints.ledger.models import LedgerAccount

from .exceptions import NicknameTaken
from .models import Badge, BadgeAward, LeaderboardEntry

CHUNK = 5000


def _streak_accounts(badge: Badge, now: datetime):
    """Citizens with a credited action on each of the last ``threshold`` days (today included)."""
    zone = timezone.get_current_timezone()
    first = timezone.localdate(now) - timedelta(days=badge.threshold - 1)
    return (
        ActionRecord.objects.filter(
            state=ActionState.CREDITED, account__isnull=False, occurred_at__date__gte=first
        )
        .annotate(day=TruncDate("occurred_at", tzinfo=zone))
        .values("account_id")
        .annotate(days=Count("day", distinct=True))
        .filter(days__gte=badge.threshold)
        .values_list("account_id", flat=True)
    )


def _variety_accounts(badge: Badge, now: datetime):
    """Citizens with ``threshold`` kinds of action credited this calendar month."""
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (
        ActionRecord.objects.filter(
            state=ActionState.CREDITED, account__isnull=False, occurred_at__gte=month_start
        )
        .values("account_id")
        .annotate(kinds=Count("action", distinct=True))
        .filter(kinds__gte=badge.threshold)
        .values_list("account_id", flat=True)
    )


def _milestone_accounts(badge: Badge, now: datetime):
    """Citizens whose grams contributed (posted, and credited since: their accrual) reach it."""
    kind, unit = REDUCTION
    accrued = Accrual.objects.filter(owner_id=OuterRef("owner_id")).values("reduction_g")[:1]
    return (
        LedgerAccount.objects.filter(kind=kind, unit=unit)
        .annotate(held=F("balance") + Coalesce(Subquery(accrued), 0))
        .filter(held__gte=badge.threshold)
        .values_list("owner_id", flat=True)
    )


RULES = {
    Badge.Rule.STREAK: _streak_accounts,
    Badge.Rule.VARIETY: _variety_accounts,
    Badge.Rule.MILESTONE: _milestone_accounts,
}


@transaction.atomic
def badges_award(*, now: datetime | None = None) -> int:
    """Award every active badge to the citizens who now meet its rule; returns how many were new."""
    now = now or timezone.now()
    awarded = 0
    for badge in Badge.objects.filter(active=True):
        earners = RULES[Badge.Rule(badge.rule)](badge, now).exclude(
            **{
                (
                    "owner_id__in" if badge.rule == Badge.Rule.MILESTONE else "account_id__in"
                ): BadgeAward.objects.filter(badge=badge).values("account_id")
            }
        )
        ids = list(earners)
        for start in range(0, len(ids), CHUNK):
            created = BadgeAward.objects.bulk_create(
                [
                    BadgeAward(account_id=pk, badge=badge, awarded_at=now)
                    for pk in ids[start : start + CHUNK]
                ],
                ignore_conflicts=True,
            )
            awarded += len(created)
    return awarded


def leaderboard_join(*, account: CarbonAccount, nickname: str) -> LeaderboardEntry:
    """Appear on the leaderboard (or change nickname); a nickname another citizen holds, in any case, is refused."""
    nickname = nickname.strip()
    if LeaderboardEntry.objects.filter(nickname__iexact=nickname).exclude(account=account).exists():
        raise NicknameTaken(nickname=nickname)
    try:
        with transaction.atomic():
            entry, _ = LeaderboardEntry.objects.update_or_create(
                account=account, defaults={"nickname": nickname}
            )
    except IntegrityError as race:  # another citizen took it between the check and the write
        raise NicknameTaken(nickname=nickname) from race
    return entry


def leaderboard_leave(*, account: CarbonAccount) -> None:
    LeaderboardEntry.objects.filter(account=account).delete()
