"""Refusals of the spend side, each with the code and status the API answers with.

They are ``ApiError``s, so a view can let them through and the API answers in the one error
shape; console pages catch them and show the message.
"""

from django.utils.translation import gettext_lazy as _

from carbonpoints.api.errors import ApiError


class SpendRefused(ApiError):
    status = 409
    code = "refused"
    message = _("The request was refused.")

    def __init__(self, message=None, **details):
        super().__init__(self.status, self.code, str(message or self.message), details)

    def __str__(self) -> str:
        return str(self.detail)


def _refusal(name: str, status: int, code: str, message) -> type[SpendRefused]:
    return type(name, (SpendRefused,), {"status": status, "code": code, "message": message})


InsufficientPoints = _refusal("InsufficientPoints", 409, "insufficient_points", _("Not enough points."))
OutOfStock = _refusal("OutOfStock", 409, "out_of_stock", _("This scenario is sold out."))
LimitReached = _refusal("LimitReached", 409, "limit_reached", _("The limit per citizen is reached."))
ScenarioUnavailable = _refusal(
    "ScenarioUnavailable", 409, "scenario_unavailable", _("This scenario cannot be redeemed now.")
)
VoucherAlreadyConsumed = _refusal(
    "VoucherAlreadyConsumed", 409, "voucher_already_consumed", _("This voucher was consumed already.")
)
VoucherExpired = _refusal("VoucherExpired", 409, "voucher_expired", _("This voucher has expired."))
VoucherRefunded = _refusal("VoucherRefunded", 409, "voucher_refunded", _("This voucher was refunded."))
PaymentCodeInvalid = _refusal(
    "PaymentCodeInvalid", 409, "payment_code_invalid", _("The payment code is unknown, used or expired.")
)
NothingToOffset = _refusal(
    "NothingToOffset", 422, "nothing_to_offset", _("No points can pay part of this order.")
)
CheckoutAlreadyReversed = _refusal(
    "CheckoutAlreadyReversed", 409, "checkout_already_reversed", _("This checkout was reversed already.")
)
ReversalWindowClosed = _refusal(
    "ReversalWindowClosed", 409, "reversal_window_closed", _("This checkout is too old to reverse.")
)
InsufficientPool = _refusal(
    "InsufficientPool", 409, "insufficient_pool", _("The pool holds fewer reduction units than asked.")
)
ScenarioStateConflict = _refusal(
    "ScenarioStateConflict", 409, "scenario_state_conflict", _("The scenario cannot change to that state.")
)
IdempotencyKeyReused = _refusal(
    "IdempotencyKeyReused", 422, "idempotency_key_reused",
    _("This Idempotency-Key was used for a different request."),
)
ScenarioNotFound = _refusal("ScenarioNotFound", 404, "not_found", _("No such scenario."))
VoucherNotFound = _refusal("VoucherNotFound", 404, "not_found", _("No such voucher at this merchant."))
CheckoutNotFound = _refusal("CheckoutNotFound", 404, "not_found", _("No such checkout at this merchant."))
CertificateNotFound = _refusal("CertificateNotFound", 404, "not_found", _("No such certificate."))
NotMerchantStaff = _refusal("NotMerchantStaff", 403, "not_merchant_staff", _("Only merchant staff may do this."))
MerchantNotApproved = _refusal(
    "MerchantNotApproved", 403, "merchant_not_approved", _("The merchant is not approved by the operator.")
)
ManagerOnly = _refusal("ManagerOnly", 403, "manager_only", _("Only a manager of the merchant may do this."))
