"""The platform's ledger accounts of the earn side (sources the crediting posts from).

Citizen accounts and the offset pool are named in ``accounts.ledger_accounts``.
"""

from carbonpoints.ledger.keys import AccountKey
from carbonpoints.ledger.models import PLATFORM, Unit

GRAMS_ISSUANCE = AccountKey("earn_grams_issuance", PLATFORM, Unit.GRAMS)
"""Source of every verified gram in the contribution view (citizens' reduction_g)."""
CLAIM_ISSUANCE = AccountKey("earn_claim_issuance", PLATFORM, Unit.GRAMS)
"""Source of the same grams in the claim view (the offset pool)."""
POINTS_ISSUANCE = AccountKey("earn_points_issuance", PLATFORM, Unit.POINTS)
"""Source of every point earned."""

SOURCES = (GRAMS_ISSUANCE, CLAIM_ISSUANCE, POINTS_ISSUANCE)

CREDIT_KIND = "earn_credit"
SETTLE_KIND = "earn_settle"
REVERSE_KIND = "earn_reversal"
