"""Writes for people and their carbon accounts."""

from django.db import transaction

from carbonpoints.ledger.services import ledger_account_get_or_create

from .ledger_accounts import CITIZEN_ACCOUNTS
from .models import CarbonAccount, Role, User


@transaction.atomic
def carbon_account_open(*, user: User) -> CarbonAccount:
    """Open the citizen's carbon account and its ledger accounts (safe to call again)."""
    account, _ = CarbonAccount.objects.get_or_create(user=user)
    for kind, unit in CITIZEN_ACCOUNTS:
        ledger_account_get_or_create(kind=kind, unit=unit, owner_id=account.pk)
    return account


@transaction.atomic
def citizen_create(*, email: str, password: str | None = None, display_name: str = "") -> User:
    """A citizen signed up outside the sign-up pages (demo data, imports), account and all."""
    user = User.objects.create_user(
        email=email, password=password, display_name=display_name, role=Role.CITIZEN
    )
    carbon_account_open(user=user)
    return user
