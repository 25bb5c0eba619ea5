"""Refusals of the spend side: written-out domain errors (``carbonpoints.errors``).

The API's exception handler answers each in the one error shape with the status of its kind
(conflict 409, not found 404, forbidden 403, unprocessable 422); console pages catch
``SpendRefused`` and show the message.
"""

from django.utils.translation import gettext_lazy as _

from carbonpoints.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unprocessable


class SpendRefused(DomainError):
    """Base of every refusal of the spend side."""


class InsufficientPoints(SpendRefused, Conflict):
    code = "insufficient_points"
    message = _("Not enough points.")


class OutOfStock(SpendRefused, Conflict):
    code = "out_of_stock"
    message = _("This scenario is sold out.")


class LimitReached(SpendRefused, Conflict):
    code = "limit_reached"
    message = _("The limit per citizen is reached.")


class ScenarioUnavailable(SpendRefused, Conflict):
    code = "scenario_unavailable"
    message = _("This scenario cannot be redeemed now.")


class VoucherAlreadyConsumed(SpendRefused, Conflict):
    code = "voucher_already_consumed"
    message = _("This voucher was consumed already.")


class VoucherExpired(SpendRefused, Conflict):
    code = "voucher_expired"
    message = _("This voucher has expired.")


class VoucherRefunded(SpendRefused, Conflict):
    code = "voucher_refunded"
    message = _("This voucher was refunded.")


class PaymentCodeInvalid(SpendRefused, Conflict):
    code = "payment_code_invalid"
    message = _("The payment code is unknown, used or expired.")


class NothingToOffset(SpendRefused, Unprocessable):
    code = "nothing_to_offset"
    message = _("No points can pay part of this order.")


class CheckoutAlreadyReversed(SpendRefused, Conflict):
    code = "checkout_already_reversed"
    message = _("This checkout was reversed already.")


class CheckoutSettled(SpendRefused, Conflict):
    code = "checkout_settled"
    message = _("This checkout is settled already and can no longer be reversed.")


class ReversalWindowClosed(SpendRefused, Conflict):
    code = "reversal_window_closed"
    message = _("This checkout is too old to reverse.")


class InsufficientPool(SpendRefused, Conflict):
    code = "insufficient_pool"
    message = _("The pool holds fewer reduction units than asked.")


class ScenarioStateConflict(SpendRefused, Conflict):
    code = "scenario_state_conflict"
    message = _("The scenario cannot change to that state.")


class IdempotencyKeyReused(SpendRefused, Unprocessable):
    code = "idempotency_key_reused"
    message = _("This Idempotency-Key was used for a different request.")


class IdempotencyKeyRequired(SpendRefused, Invalid):
    code = "idempotency_key_required"
    message = _("Send an Idempotency-Key header.")


class IdempotencyKeyTooLong(SpendRefused, Invalid):
    code = "invalid"
    message = _("The Idempotency-Key is longer than 100 characters.")


class ScenarioNotFound(SpendRefused, NotFound):
    message = _("No such scenario.")


class VoucherNotFound(SpendRefused, NotFound):
    message = _("No such voucher at this merchant.")


class CheckoutNotFound(SpendRefused, NotFound):
    message = _("No such checkout at this merchant.")


class SettlementNotFound(SpendRefused, NotFound):
    code = "settlement_not_found"
    message = _("No such settlement statement.")


class NotMerchantStaff(SpendRefused, Forbidden):
    code = "not_merchant_staff"
    message = _("Only merchant staff may do this.")


class MerchantNotApproved(SpendRefused, Forbidden):
    code = "merchant_not_approved"
    message = _("The merchant is not approved by the operator.")


class ManagerOnly(SpendRefused, Forbidden):
    code = "manager_only"
    message = _("Only a manager of the merchant may do this.")


class MerchantNotPending(Conflict):
    code = "merchant_not_pending"
    message = _("Only a pending (draft) merchant is approved.")
