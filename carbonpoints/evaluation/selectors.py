"""Reads of the evaluation: a citizen's badges, and the city leaderboard from the ranking snapshot."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import CitizenRank
from carbonpoints.regions.codes import default as default_region
from carbonpoints.units import mass

from .models import Badge, BadgeAward, LeaderboardEntry


def badge_rule_text(badge: Badge) -> str:
    """What earns the badge, with its threshold, in the reader's language."""
    n = badge.threshold
    if badge.rule == Badge.Rule.STREAK:
        return ngettext(
            "A credited action %(n)s day in a row", "A credited action %(n)s days in a row", n
        ) % {"n": n}
    if badge.rule == Badge.Rule.VARIETY:
        return ngettext(
            "%(n)s kind of action in one month", "%(n)s kinds of action in one month", n
        ) % {"n": n}
    return _("%(g)s CO2e contributed in total") % {"g": mass(n)}


def citizen_badges(*, account_id: int) -> list[dict]:
    """Every active badge, earned or not, with when it was earned."""
    earned = dict(
        BadgeAward.objects.filter(account_id=account_id).values_list("badge_id", "awarded_at")
    )
    return [
        {
            "code": b.code,
            "name": b.name,
            "rule": b.rule,
            "rule_text": badge_rule_text(b),
            "threshold": b.threshold,
            "earned": b.pk in earned,
            "earned_at": earned.get(b.pk),
        }
        for b in Badge.objects.filter(active=True)
    ]


def leaderboard(*, limit: int = 50, region: str | None = None) -> list[dict]:
    """The opted-in citizens of a home region (None: the default region's) in ranking order
    (positions are region-wide, from the last ranking)."""
    region = region or default_region()
    home = Q(account__home_region=region)
    if region == default_region():
        home |= Q(account__home_region__isnull=True)
    ranks = (
        CitizenRank.objects.filter(home, account__leaderboard_entry__isnull=False)
        .select_related("account__leaderboard_entry")
        .order_by("position")[:limit]
    )
    return [
        {
            "position": r.position,
            "nickname": r.account.leaderboard_entry.nickname,
            "reduction_g": r.reduction_g,
            "account_id": r.account_id,
        }
        for r in ranks
    ]


def leaderboard_entry(*, account_id: int) -> LeaderboardEntry | None:
    return LeaderboardEntry.objects.filter(account_id=account_id).first()
