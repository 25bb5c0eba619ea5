class LedgerError(Exception):
    """Base of every refusal by the ledger; ``code`` is the machine-readable reason."""

    code = "ledger_error"


class UnbalancedTransaction(LedgerError):
    code = "unbalanced_transaction"


class InsufficientBalance(LedgerError):
    code = "insufficient_balance"

    def __init__(self, account: object, needed: int, available: int) -> None:
        self.account = account
        self.needed = needed
        self.available = available
        super().__init__(f"{account} holds {available}, {needed} needed")


class IdempotencyConflict(LedgerError):
    """The key was used before for a different transaction."""

    code = "idempotency_conflict"
