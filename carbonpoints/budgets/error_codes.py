"""Codes of refusals of sponsors' budgets."""

from enum import StrEnum


class BudgetErrorCode(StrEnum):
    DEPOSIT_INVALID = "deposit_invalid"
