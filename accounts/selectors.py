"""Reads of people and their carbon accounts; balances come from the ledger's running balances."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from carbonpoints.ledger.models import LedgerAccount

from .ledger_accounts import POINTS, POINTS_PENDING, REDUCTION
from .models import CarbonAccount, CitizenRank


@dataclass(frozen=True)
class Level:
    code: str
    name: str
    min_g: int


LEVELS = (
    Level("sprout", _("Sprout"), 0),
    Level("sapling", _("Sapling"), 10_000),
    Level("tree", _("Tree"), 50_000),
    Level("grove", _("Grove"), 200_000),
    Level("forest", _("Forest"), 1_000_000),
)
"""Levels by grams contributed, lowest first."""


def level_for(reduction_g: int) -> dict:
    """The citizen's level and how far it is to the next one."""
    index = max(i for i, level in enumerate(LEVELS) if reduction_g >= level.min_g)
    level = LEVELS[index]
    following = LEVELS[index + 1] if index + 1 < len(LEVELS) else None
    return {
        "code": level.code,
        "name": str(level.name),
        "min_g": level.min_g,
        "next_code": following.code if following else None,
        "next_min_g": following.min_g if following else None,
        "to_next_g": following.min_g - reduction_g if following else 0,
    }


def rank_for(*, account: CarbonAccount) -> dict:
    """Position among all citizens by grams contributed (1 is the most), as of the last ranking.

    A citizen who joined after the last ranking is not placed yet: every figure is None.
    """
    mine = CitizenRank.objects.filter(account=account).first()
    if mine is None:
        return {"position": None, "of": None, "ahead_of_percent": None, "as_of": None}
    return {
        "position": mine.position,
        "of": mine.of_total,
        "ahead_of_percent": mine.ahead_of_percent,
        "as_of": mine.computed_at,
    }


def carbon_account_balances(*, account: CarbonAccount) -> dict[str, int]:
    """The three balances of a carbon account, read in one query."""
    wanted = {REDUCTION: "reduction_g", POINTS: "available", POINTS_PENDING: "pending"}
    rows = LedgerAccount.objects.filter(
        owner_id=account.pk, kind__in=[kind for kind, _ in wanted]
    ).values_list("kind", "unit", "balance")
    balances = {name: 0 for name in wanted.values()}
    for kind, unit, balance in rows:
        name = wanted.get((kind, unit))
        if name:
            balances[name] = balance
    return balances


def carbon_account_summary(*, account: CarbonAccount) -> dict:
    """What the app and the portal show on the account page."""
    balances = carbon_account_balances(account=account)
    return {
        "reduction_g": balances["reduction_g"],
        "points": {"available": balances["available"], "pending": balances["pending"]},
        "level": level_for(balances["reduction_g"]),
        "rank": rank_for(account=account),
    }
