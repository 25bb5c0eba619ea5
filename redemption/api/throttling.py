"""Rate limits of the spend side's API (rates in ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``).

Wrong voucher and payment codes are counted per staff member and per merchant, so guessing codes
is throttled whether one tablet or all of a merchant's tills do it.
"""

from carbonpoints.api.throttling import FailureThrottle, ScopedThrottle


class StaffWrongCodeThrottle(FailureThrottle):
    scope = "wrong_code_staff"

    def ident(self, request, view):
        staff = getattr(request, "staff", None)
        return staff.pk if staff else None


class MerchantWrongCodeThrottle(FailureThrottle):
    scope = "wrong_code_merchant"

    def ident(self, request, view):
        staff = getattr(request, "staff", None)
        return staff.merchant_id if staff else None


WRONG_CODE_THROTTLES = (StaffWrongCodeThrottle, MerchantWrongCodeThrottle)


class PaymentCodeThrottle(ScopedThrottle):
    """Payment codes a citizen may have issued per period."""

    scope = "payment_code"

    def ident(self, request, view):
        return request.user.pk if request.user and request.user.is_authenticated else None
