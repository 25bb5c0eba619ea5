"""Writes of the spend side: merchants and their staff."""

import secrets

from django.db import transaction

from accounts.models import Role, User

from .models import Merchant, MerchantStaff


def _new_password() -> str:
    return secrets.token_urlsafe(12)


@transaction.atomic
def merchant_create(
    *, name: str, manager_email: str, status: str = Merchant.Status.APPROVED
) -> tuple[Merchant, str]:
    """A merchant with its first manager; returns the manager's one-time password."""
    merchant = Merchant.objects.create(name=name, status=status)
    password = _new_password()
    manager = User.objects.create_user(
        email=manager_email, password=password, role=Role.MERCHANT_STAFF
    )
    MerchantStaff.objects.create(merchant=merchant, user=manager, role=MerchantStaff.Role.MANAGER)
    return merchant, password
