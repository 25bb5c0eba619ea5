"""Refusals of the ledger: domain errors of the conflict kind (409), each with its code."""

from carbonpoints.errors import Conflict
from carbonpoints.ledger.error_codes import LedgerErrorCode


class LedgerError(Conflict):
    """Base of every refusal by the ledger; ``code`` is the machine-readable reason."""

    code = LedgerErrorCode.LEDGER_ERROR
    message = "The ledger refused this transaction."


class UnbalancedTransaction(LedgerError):
    code = LedgerErrorCode.UNBALANCED_TRANSACTION
    message = "The legs of the transaction do not sum to zero."


class InsufficientBalance(LedgerError):
    code = LedgerErrorCode.INSUFFICIENT_BALANCE
    message = "An account would hold less than nothing."

    def __init__(self, account: object, needed: int, available: int) -> None:
        self.account = account
        self.needed = needed
        self.available = available
        super().__init__(f"{account} holds {available}, {needed} needed")


class IdempotencyConflict(LedgerError):
    """The key was used before for a different transaction."""

    code = LedgerErrorCode.IDEMPOTENCY_CONFLICT
    message = "The idempotency key was used for another transaction."
