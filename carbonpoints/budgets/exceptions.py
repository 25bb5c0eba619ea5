"""Refusals of sponsors' budgets: written-out domain errors."""

from django.utils.translation import gettext_lazy as _

from carbonpoints.budgets.error_codes import BudgetErrorCode
from carbonpoints.errors import Invalid


class DepositInvalid(Invalid):
    """A deposit's points or money are out of range (``details["field"]`` names which)."""

    code = BudgetErrorCode.DEPOSIT_INVALID
    message = _("This deposit cannot be made.")
