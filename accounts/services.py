"""Writes for people and their carbon accounts."""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from carbonpoints.ledger.services import ledger_account_get_or_create
from carbonpoints.regions.codes import default as default_region
from carbonpoints.regions.models import Region

from .exceptions import UnknownRegion
from .ledger_accounts import CITIZEN_ACCOUNTS, REDUCTION
from .models import CarbonAccount, CitizenRank, CitizenStanding, Level, Role, User
from .selectors import SUMMARIES


@transaction.atomic
def carbon_account_open(*, user: User) -> CarbonAccount:
    """Open the citizen's carbon account and its ledger accounts (safe to call again)."""
    account, _ = CarbonAccount.objects.get_or_create(user=user)
    for kind, unit in CITIZEN_ACCOUNTS:
        ledger_account_get_or_create(kind=kind, unit=unit, owner_id=account.pk)
    return account


def account_home_region_set(*, account: CarbonAccount, region: str | None) -> CarbonAccount:
    """The citizen's home region (a GB/T 2260 code; None: the default region): the leaderboard
    they appear on from the next ranking, and their catalogue's default."""
    if region is not None and not Region.objects.filter(code=region).exists():
        raise UnknownRegion(region=region)
    account.home_region_id = region
    account.save(update_fields=["home_region"])
    transaction.on_commit(lambda: SUMMARIES.forget(account.pk))  # the account page shows it
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
       RANK() OVER (region ORDER BY la.balance DESC),
       COUNT(*) OVER region,
       COALESCE((RANK() OVER (region ORDER BY la.balance) - 1) * 100 / NULLIF(COUNT(*) OVER region - 1, 0), 100),
       la.balance,
       %s
FROM accounts_carbonaccount ca
JOIN ledger_ledgeraccount la ON la.owner_id = ca.id AND la.kind = %s AND la.unit = %s
WINDOW region AS (PARTITION BY COALESCE(ca.home_region_id, %s))
"""
"""Ranks within each home region (a citizen who chose none: the default region's), so each
region's leaderboard counts its own citizens; one region's deployment ranks everyone together."""


@transaction.atomic
def citizen_ranks_recompute() -> int:
    """Rank every citizen by grams contributed, in one statement; returns how many were ranked.

    Readers keep seeing the previous ranking until this commits.
    """
    kind, unit = REDUCTION
    CitizenRank.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(RANKING_SQL, [timezone.now(), kind, unit, default_region()])
        ranked: int = cursor.rowcount
    SUMMARIES.forget_all()
    return ranked


def _standings_sql() -> str:
    from carbonpoints.ledger.models import LedgerAccount, Posting

    standing, level = CitizenStanding._meta.db_table, Level._meta.db_table
    account, ledger, posting = (
        CarbonAccount._meta.db_table,
        LedgerAccount._meta.db_table,
        Posting._meta.db_table,
    )
    level_min = f"(SELECT MAX(v.min_trailing_g) FROM {level} v WHERE v.min_trailing_g <= {{}})"
    return f"""
INSERT INTO {standing} (account_id, trailing_g, level_reached_at, computed_at)
SELECT ca.id, COALESCE(t.g, 0), CASE WHEN {level_min.format("COALESCE(t.g, 0)")} > 0 THEN %s END, %s
FROM {account} ca LEFT JOIN (
  SELECT la.owner_id AS account_id, SUM(p.amount) AS g FROM {posting} p JOIN {ledger} la ON la.id = p.account_id
  WHERE la.kind = %s AND la.unit = %s AND p.created_at >= %s GROUP BY la.owner_id
) t ON t.account_id = ca.id
WHERE true
ON CONFLICT (account_id) DO UPDATE SET
  level_reached_at = CASE
    WHEN COALESCE({level_min.format("excluded.trailing_g")}, 0)
       > COALESCE({level_min.format(f"{standing}.trailing_g")}, 0)
    THEN excluded.computed_at ELSE {standing}.level_reached_at END,
  trailing_g = excluded.trailing_g,
  computed_at = excluded.computed_at
"""


@transaction.atomic
def citizen_standings_recompute(*, now: datetime | None = None) -> int:
    """Every citizen's trailing-12-month verified reduction, in one statement; a citizen whose
    level went up gets ``level_reached_at`` (the inbox tells them). Returns how many were computed."""
    now = now or timezone.now()
    kind, unit = REDUCTION
    with connection.cursor() as cursor:
        cursor.execute(_standings_sql(), [now, now, kind, unit, now - timedelta(days=365)])
        computed: int = cursor.rowcount
    SUMMARIES.forget_all()
    return computed
