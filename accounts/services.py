"""Writes for people and their carbon accounts."""

from django.db import connection, transaction
from django.utils import timezone

from carbonpoints.ledger.services import ledger_account_get_or_create

from .ledger_accounts import CITIZEN_ACCOUNTS, REDUCTION
from .models import CarbonAccount, CitizenRank, Role, User


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
        return cursor.rowcount
