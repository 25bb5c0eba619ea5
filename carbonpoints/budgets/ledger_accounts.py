"""The ledger accounts of sponsors' budgets, in points.

A deposit moves points from the budget's deposits account (a source: its balance is minus what
was deposited) to the budget's own account; every credit draws on the budget's account, which may
never go below zero, so no point is ever issued unfunded. Expired points come back through the
platform's expiry account.
"""

from carbonpoints.ledger.keys import AccountKey, AccountKind
from carbonpoints.ledger.models import PLATFORM, Unit

BUDGET = AccountKind("budget_points", Unit.POINTS)
"""Points a budget still funds (owner: the budget's id). Never negative."""
DEPOSITS = AccountKind("budget_deposits", Unit.POINTS)
"""Where a budget's deposits come from (owner: the budget's id): minus the points deposited."""
EXPIRY = AccountKey("points_expiry", PLATFORM, Unit.POINTS)
"""Points citizens left unused too long, on their way back to a budget."""

DEPOSIT_KIND = "budget_deposit"
EXPIRE_KIND = "points_expire"
RETURN_KIND = "budget_return"
FUND_KIND = "earn_fund"
"""Points of credits that waited for funding, issued once a budget funds them."""
