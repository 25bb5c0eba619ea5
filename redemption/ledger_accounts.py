"""The spend side's own ledger accounts (the citizen's POINTS and the offset pools are in accounts/).

Merchant accounts are owned by the merchant's id; every one of them is bounded (never negative),
so a refund can only return what was taken.
"""

from carbonpoints.ledger.models import Unit
from carbonpoints.ledger.services import ledger_account_get_or_create

MERCHANT_POINTS = ("merchant_points", Unit.POINTS)
"""Points citizens spent with the merchant (vouchers and checkouts), to be settled in money."""
MERCHANT_SETTLED = ("merchant_settled", Unit.POINTS)
"""Points of the merchant's that a daily settlement has turned into money owed to it."""
DONATION_POINTS = ("donation_points", Unit.POINTS)
"""Points citizens gave to a merchant's public-good (donation) scenarios."""
OFFSET_RETIRED = ("offset_retired", Unit.GRAMS)
"""Grams of pooled reduction the merchant retired as offsets: they never go back to the pool."""

RECEIVING_SHARDS = 8
"""Points a merchant takes (MERCHANT_POINTS, DONATION_POINTS) arrive on one of this many accounts,
chosen by the paying citizen, so that concurrent redemptions at one merchant do not all queue for
one account row until their commits. What the merchant holds is the sum over them
(``selectors.merchant_points``); shard 0 keeps the plain kind, so earlier postings stay where they were."""


def receiving_account_key(which: tuple[str, str], citizen_id: int) -> tuple[str, str]:
    """``(kind, unit)`` of the merchant's receiving account that ``citizen_id``'s points go to."""
    kind, unit = which
    shard = citizen_id % RECEIVING_SHARDS
    return (kind if shard == 0 else f"{kind}-{shard}", unit)


def receiving_account_kinds(which: tuple[str, str]) -> list[str]:
    """Every kind of the merchant's ``which`` accounts (one per shard)."""
    kind, _ = which
    return [kind, *(f"{kind}-{shard}" for shard in range(1, RECEIVING_SHARDS))]


def merchant_account(which: tuple[str, str], merchant_id: int):
    kind, unit = which
    return ledger_account_get_or_create(kind=kind, unit=unit, owner_id=merchant_id)
