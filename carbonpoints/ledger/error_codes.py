"""Codes of the ledger's refusals."""

from enum import StrEnum


class LedgerErrorCode(StrEnum):
    LEDGER_ERROR = "ledger_error"
    UNBALANCED_TRANSACTION = "unbalanced_transaction"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
