"""Writes for people and their carbon accounts."""

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from carbonpoints.ledger.services import ledger_account_get_or_create

from .exceptions import SubjectAlreadyLinked
from .ledger_accounts import CITIZEN_ACCOUNTS, REDUCTION
from .models import CarbonAccount, CitizenRank, IdentityLink, Role, User


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
    user: User = User.objects.create_user(  # type: ignore[no-untyped-call]  # our manager's, untyped
        email=email, password=password, display_name=display_name, role=Role.CITIZEN
    )
    carbon_account_open(user=user)
    return user


RANKING_SQL = """
INSERT INTO accounts_citizenrank (account_id, position, of_total, ahead_of_percent, reduction_g, computed_at)
SELECT ca.id,
       RANK() OVER (ORDER BY la.balance DESC),
       COUNT(*) OVER (),
       COALESCE((RANK() OVER (ORDER BY la.balance) - 1) * 100 / NULLIF(COUNT(*) OVER () - 1, 0), 100),
       la.balance,
       %s
FROM accounts_carbonaccount ca
JOIN ledger_ledgeraccount la ON la.owner_id = ca.id AND la.kind = %s AND la.unit = %s
"""


@transaction.atomic
def citizen_ranks_recompute() -> int:
    """Rank every citizen by grams contributed, in one statement; returns how many were ranked.

    Readers keep seeing the previous ranking until this commits.
    """
    kind, unit = REDUCTION
    CitizenRank.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(RANKING_SQL, [timezone.now(), kind, unit])
        ranked: int = cursor.rowcount
        return ranked


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
            raise SubjectAlreadyLinked()
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
        raise SubjectAlreadyLinked() from exc


def identity_link_revoke(*, link: IdentityLink) -> IdentityLink:
    """Withdraw consent: future records of this subject are no longer credited."""
    if link.revoked_at is None:
        IdentityLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        link.refresh_from_db()
    return link
