"""The ledger accounts every carbon account owns, named once for the whole platform.

The earn side (crediting) posts into them and the spend side (redemption) out of them; both
find them here, so neither needs the other.
"""

from carbonpoints.ledger.models import Unit

REDUCTION = ("citizen_reduction", Unit.GRAMS)
"""Grams of verified reduction the citizen contributed: never falls when reductions are sold."""
POINTS = ("citizen_points", Unit.POINTS)
"""Points the citizen may spend now."""
POINTS_PENDING = ("citizen_points_pending", Unit.POINTS)
"""Points credited but still in their settling period."""

CITIZEN_ACCOUNTS = (REDUCTION, POINTS, POINTS_PENDING)
