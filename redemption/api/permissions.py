"""Who may call the merchant API: staff of an approved merchant, managers for some calls.

A passing check leaves the staff member on ``request.staff`` for the view and its throttles.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from redemption import selectors
from redemption.exceptions import ManagerOnly, MerchantNotApproved, NotMerchantStaff


class IsMerchantStaff(BasePermission):
    """Signed-in staff (any role) of an approved merchant; refusals carry their own codes."""

    def manager_required(self, request) -> bool:
        return False

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False  # 401 not_authenticated
        staff = selectors.staff_of(request.user)
        if staff is None:
            raise NotMerchantStaff()
        if not staff.merchant.is_approved:
            raise MerchantNotApproved()
        if self.manager_required(request) and not staff.is_manager:
            raise ManagerOnly()
        request.staff = staff
        return True


class IsMerchantManager(IsMerchantStaff):
    """A manager of an approved merchant."""

    def manager_required(self, request) -> bool:
        return True


class IsMerchantManagerToWrite(IsMerchantStaff):
    """Any staff member reads; only a manager writes (POST, PUT, PATCH, DELETE)."""

    def manager_required(self, request) -> bool:
        return request.method not in SAFE_METHODS
