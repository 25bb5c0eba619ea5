"""Refusals of the spend side: written-out domain errors (``carbonpoints.errors``).

The API's exception handler answers each in the one error shape with the status of its kind
(conflict 409, not found 404, forbidden 403, unprocessable 422); console pages catch
``SpendRefused`` and show the message.
"""

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _

from carbonpoints.error_codes import CommonErrorCode
from carbonpoints.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unprocessable
from redemption.error_codes import SpendErrorCode


class SpendRefused(DomainError):
    """Base of every refusal of the spend side."""


class InsufficientPoints(SpendRefused, Conflict):
    code = SpendErrorCode.INSUFFICIENT_POINTS
    message = _("Not enough points.")


class OutOfStock(SpendRefused, Conflict):
    """``recheck``: the statement that takes the stock found no unit and the transaction is
    rolled back; called after the rollback, it gives the refusal the scenario gives now (paused,
    closed…) or ``None`` (then sold out it is)."""

    code = SpendErrorCode.OUT_OF_STOCK
    message = _("This scenario is sold out.")

    def __init__(
        self,
        message: Any = None,
        *,
        recheck: Callable[[], SpendRefused | None] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message, **details)
        self.recheck = recheck


class LimitReached(SpendRefused, Conflict):
    code = SpendErrorCode.LIMIT_REACHED
    message = _("The limit per citizen is reached.")


class ScenarioUnavailable(SpendRefused, Conflict):
    code = SpendErrorCode.SCENARIO_UNAVAILABLE
    message = _("This scenario cannot be redeemed now.")


class VoucherAlreadyConsumed(SpendRefused, Conflict):
    code = SpendErrorCode.VOUCHER_ALREADY_CONSUMED
    message = _("This voucher was consumed already.")


class VoucherExpired(SpendRefused, Conflict):
    code = SpendErrorCode.VOUCHER_EXPIRED
    message = _("This voucher has expired.")


class VoucherRefunded(SpendRefused, Conflict):
    code = SpendErrorCode.VOUCHER_REFUNDED
    message = _("This voucher was refunded.")


class PaymentCodeInvalid(SpendRefused, Conflict):
    code = SpendErrorCode.PAYMENT_CODE_INVALID
    message = _("The payment code is unknown, used or expired.")


class NothingToOffset(SpendRefused, Unprocessable):
    code = SpendErrorCode.NOTHING_TO_OFFSET
    message = _("No points can pay part of this order.")


class CheckoutAlreadyReversed(SpendRefused, Conflict):
    code = SpendErrorCode.CHECKOUT_ALREADY_REVERSED
    message = _("This checkout was reversed already.")


class CheckoutSettled(SpendRefused, Conflict):
    code = SpendErrorCode.CHECKOUT_SETTLED
    message = _("This checkout is settled already and can no longer be reversed.")


class ReversalWindowClosed(SpendRefused, Conflict):
    code = SpendErrorCode.REVERSAL_WINDOW_CLOSED
    message = _("This checkout is too old to reverse.")


class InsufficientPool(SpendRefused, Conflict):
    code = SpendErrorCode.INSUFFICIENT_POOL
    message = _("The pool holds fewer reduction units than asked.")


class ScenarioStateConflict(SpendRefused, Conflict):
    code = SpendErrorCode.SCENARIO_STATE_CONFLICT
    message = _("The scenario cannot change to that state.")


class IdempotencyKeyReused(SpendRefused, Unprocessable):
    code = SpendErrorCode.IDEMPOTENCY_KEY_REUSED
    message = _("This Idempotency-Key was used for a different request.")


class IdempotencyKeyRequired(SpendRefused, Invalid):
    code = SpendErrorCode.IDEMPOTENCY_KEY_REQUIRED
    message = _("Send an Idempotency-Key header.")


class IdempotencyKeyTooLong(SpendRefused, Invalid):
    code = CommonErrorCode.INVALID
    message = _("The Idempotency-Key is longer than 100 characters.")


class ScenarioNotFound(SpendRefused, NotFound):
    message = _("No such scenario.")


class VoucherNotFound(SpendRefused, NotFound):
    message = _("No such voucher at this merchant.")


class CheckoutNotFound(SpendRefused, NotFound):
    message = _("No such checkout at this merchant.")


class SettlementNotFound(SpendRefused, NotFound):
    code = SpendErrorCode.SETTLEMENT_NOT_FOUND
    message = _("No such settlement statement.")


class CertificateNotFound(SpendRefused, NotFound):
    """No offset certificate has this id (the public verification page and API)."""

    message = _("Not found.")


class NotMerchantStaff(SpendRefused, Forbidden):
    code = SpendErrorCode.NOT_MERCHANT_STAFF
    message = _("Only merchant staff may do this.")


class MerchantNotApproved(SpendRefused, Forbidden):
    code = SpendErrorCode.MERCHANT_NOT_APPROVED
    message = _("The merchant is not approved by the operator.")


class ManagerOnly(SpendRefused, Forbidden):
    code = SpendErrorCode.MANAGER_ONLY
    message = _("Only a manager of the merchant may do this.")


class MerchantNotPending(Conflict):
    code = SpendErrorCode.MERCHANT_NOT_PENDING
    message = _("Only a pending (draft) merchant is approved.")
