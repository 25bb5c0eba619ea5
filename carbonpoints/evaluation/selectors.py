"""Reads of the evaluation: a citizen's badges, and the city leaderboard from the ranking snapshot."""

from __future__ import annotations

from accounts.models import CitizenRank

from .models import Badge, BadgeAward, LeaderboardEntry


def citizen_badges(*, account_id: int) -> list[dict]:
    """Every active badge, earned or not, with when it was earned."""
    earned = dict(BadgeAward.objects.filter(account_id=account_id).values_list("badge_id", "awarded_at"))
    return [{"code": b.code, "name": b.name, "rule": b.rule, "rule_text": b.get_rule_display(),
             "threshold": b.threshold, "earned": b.pk in earned, "earned_at": earned.get(b.pk)}
            for b in Badge.objects.filter(active=True)]


def leaderboard(*, limit: int = 50) -> list[dict]:
    """The opted-in citizens in ranking order (positions are city-wide, from the last ranking)."""
    ranks = (CitizenRank.objects.filter(account__leaderboard_entry__isnull=False)
             .select_related("account__leaderboard_entry").order_by("position")[:limit])
    return [{"position": r.position, "nickname": r.account.leaderboard_entry.nickname, "reduction_g": r.reduction_g,
             "account_id": r.account_id} for r in ranks]


def leaderboard_entry(*, account_id: int) -> LeaderboardEntry | None:
    return LeaderboardEntry.objects.filter(account_id=account_id).first()
