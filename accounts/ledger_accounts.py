"""The ledger accounts every carbon account owns, named once for the whole platform.

The earn side (crediting) posts into them and the spend side (redemption) out of them; both
find them here, so neither needs the other.
"""

from carbonpoints.ledger.keys import AccountKey, AccountKind
from carbonpoints.ledger.models import PLATFORM, Unit

REDUCTION = AccountKind("citizen_reduction", Unit.GRAMS)
"""Grams of verified reduction the citizen contributed: never falls when reductions are sold."""
POINTS = AccountKind("citizen_points", Unit.POINTS)
"""Points the citizen may spend now."""
POINTS_PENDING = AccountKind("citizen_points_pending", Unit.POINTS)
"""Points credited but still in their settling period."""

CITIZEN_ACCOUNTS = (REDUCTION, POINTS, POINTS_PENDING)


# The pool of offset claims. When a citizen is rewarded in points for a verified reduction, the
# claim to use those grams as an offset passes to the platform's pool, one pool account per
# methodology and vintage (month); merchants retire grams out of it. Crediting (earn side) posts
# into these accounts, redemption (spend side) reads and retires from them.
POOL_KIND_PREFIX = "pool_"
POOL_UNIT = Unit.GRAMS


def pool_account(*, methodology_code: str, vintage_year: int, vintage_month: int) -> AccountKey:
    """The pool account for this methodology and month.

    ``owner_id`` is the vintage as YYYYMM (e.g. 202611), so pool accounts sort by vintage.
    """
    return AccountKey(
        f"{POOL_KIND_PREFIX}{methodology_code}", vintage_year * 100 + vintage_month, POOL_UNIT
    )


def pool_account_key(*, methodology_code: str, vintage_year: int, vintage_month: int) -> dict:
    """``pool_account`` as keyword arguments (``kind``, ``owner_id``, ``unit``)."""
    return pool_account(
        methodology_code=methodology_code, vintage_year=vintage_year, vintage_month=vintage_month
    )._asdict()


def pool_account_parts(kind: str, owner_id: int) -> tuple[str, str]:
    """``(methodology_code, "YYYY-MM")`` of a pool account."""
    return kind.removeprefix(POOL_KIND_PREFIX), f"{owner_id // 100:04d}-{owner_id % 100:02d}"


# Accruals (``models.Accrual``): a batch's credit moves the citizens' side into one platform
# account per citizen account kind, and the accrual job moves it on to each citizen's own.
REDUCTION_ACCRUED = AccountKey("citizen_reduction_accrued", PLATFORM, Unit.GRAMS)
POINTS_ACCRUED = AccountKey("citizen_points_accrued", PLATFORM, Unit.POINTS)
POINTS_PENDING_ACCRUED = AccountKey("citizen_points_pending_accrued", PLATFORM, Unit.POINTS)
ACCRUED = {
    REDUCTION: REDUCTION_ACCRUED,
    POINTS: POINTS_ACCRUED,
    POINTS_PENDING: POINTS_PENDING_ACCRUED,
}
"""Each citizen account kind's accrual account."""
ACCRUAL_KIND = "citizen_accrual"
"""The ledger transactions that move accrued credits to the citizens' accounts."""
CREDIT_KIND_SEEN = "earn_credit"
"""What a citizen's history calls an accrual's posting (``/me/ledger``'s ``kind``, and its filter):
a credit, as it was called when credits were posted to each citizen in the batch's request."""
