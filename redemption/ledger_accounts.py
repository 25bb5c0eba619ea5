"""The spend side's own ledger accounts (the citizen's POINTS and the offset pools are in accounts/).

Merchant accounts are owned by the merchant's id; every one of them is bounded (never negative),
so a refund can only return what was taken.
"""

from carbonpoints.ledger.models import Unit
from carbonpoints.ledger.services import ledger_account_get_or_create

MERCHANT_POINTS = ("merchant_points", Unit.POINTS)
"""Points citizens spent with the merchant (vouchers and checkouts), to be settled in money."""
DONATION_POINTS = ("donation_points", Unit.POINTS)
"""Points citizens gave to a merchant's public-good (donation) scenarios."""
OFFSET_RETIRED = ("offset_retired", Unit.GRAMS)
"""Grams of pooled reduction the merchant retired as offsets: they never go back to the pool."""


def merchant_account(which: tuple[str, str], merchant_id: int):
    kind, unit = which
    return ledger_account_get_or_create(kind=kind, unit=unit, owner_id=merchant_id)
