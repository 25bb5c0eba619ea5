"""Writes for people and their carbon accounts."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from carbonpoints.ledger.services import ledger_account_get_or_create

from .ledger_accounts import CITIZEN_ACCOUNTS
from .models import CarbonAccount, IdentityLink, Role, User


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


class SubjectAlreadyLinked(Exception):
    """Another carbon account holds an active link to this member id at this partner."""


@transaction.atomic
def identity_link_create(
    *, account: CarbonAccount, partner_id: int, subject: str, actions: list[str], wording: str
) -> IdentityLink:
    """Link a member id at a partner with the citizen's consent to these action types."""
    existing = (
        IdentityLink.objects.select_for_update()
        .filter(partner_id=partner_id, subject=subject, revoked_at__isnull=True)
        .first()
    )
    if existing is not None:
        if existing.account_id != account.pk:
            raise SubjectAlreadyLinked(subject)
        existing.revoked_at = timezone.now()  # a renewed consent replaces the old one
        existing.save(update_fields=["revoked_at"])
    try:
        with transaction.atomic():
            return IdentityLink.objects.create(
                account=account, partner_id=partner_id, subject=subject,
                consent_scope={"partner_id": partner_id, "actions": sorted(actions)},
                consent_wording=wording,
            )
    except IntegrityError as exc:  # a concurrent link of the same subject won
        raise SubjectAlreadyLinked(subject) from exc


def identity_link_revoke(*, link: IdentityLink) -> IdentityLink:
    """Withdraw consent: future records of this subject are no longer credited."""
    if link.revoked_at is None:
        IdentityLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        link.refresh_from_db()
    return link
