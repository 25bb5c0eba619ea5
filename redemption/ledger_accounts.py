"""The spend side's own ledger accounts (the citizen's POINTS and the offset pools are in accounts/).

Merchant accounts are owned by the merchant's id; every one of them is bounded (never negative),
so a refund can only return what was taken.
"""

from carbonpoints.ledger.keys import AccountKind
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


# Clearing between regions (redemption.clearing, posted by redemption.services.clearing).
# Platform accounts owned by a region: ``owner_id`` is the region's GB/T 2260 code as an integer
# (420100 Wuhan), the region's primary key and the code partners and operators use, so a posting
# reads as its region without a lookup. Both may go negative: they are net positions.
CLEARING_FUNDED = AccountKind("clearing_funded", Unit.POINTS)
"""Minus the points the region's budgets funded that citizens spent at a merchant (anywhere).
Owner 0: points spent that no budget funded (issued before budgets)."""
CLEARING_TAKEN = AccountKind("clearing_taken", Unit.POINTS)
"""The points citizens spent at the region's merchants. A region's two balances summed: what it
is owed (positive) or owes (negative) on balance; all clearing accounts sum to zero."""
CLEARING_KINDS = (CLEARING_FUNDED.kind, CLEARING_TAKEN.kind)
CLEARING_KIND = "clearing"
"""One transaction per spend: from each funding region's account to the merchant region's."""
UNFUNDED = 0
"""``owner_id`` of the funded account of points no budget funded."""


def region_owner(code: str) -> int:
    """A region's accounts' ``owner_id``: its six-digit code as an integer."""
    return int(code)
