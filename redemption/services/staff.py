"""Writes of a merchant's staff: the sign-ins of its till and office."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Role, User
from carbonpoints.audit.services import audit_record

from ..models import Merchant, MerchantStaff


def _new_password() -> str:
    return secrets.token_urlsafe(12)


@transaction.atomic
def staff_add(
    *,
    merchant: Merchant,
    email: str,
    role: str = MerchantStaff.Role.CASHIER,
    password: str | None = None,
    actor: User | None = None,
) -> tuple[MerchantStaff, str]:
    """A new sign-in for the merchant's till or office; returns its password (shown once).

    Added by a manager (``actor``): recorded in the audit trail."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("This e-mail address has an account already.")})
    if role not in MerchantStaff.Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    password = password or _new_password()
    user = User.objects.create_user(  # type: ignore[no-untyped-call]  # our manager's, untyped
        email=email, password=password, role=Role.MERCHANT_STAFF
    )
    member = MerchantStaff.objects.create(merchant=merchant, user=user, role=role)
    if actor is not None:
        audit_record(
            actor=actor,
            action="merchant.staff_add",
            obj=member,
            details={"merchant_id": merchant.pk, "role": role, "user_id": user.pk},
        )
    return member, password
