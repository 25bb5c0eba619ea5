"""Writes for people and their carbon accounts, and the accruals of their credits."""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from carbonpoints.ledger.models import LedgerAccount
from carbonpoints.ledger.services import (
    AccountRef,
    Leg,
    TransactionSpec,
    ledger_account_get_or_create,
    ledger_accounts_get_or_create,
    transaction_post_many,
)
from carbonpoints.lookups import pg_array
from carbonpoints.regions.codes import default as default_region
from carbonpoints.regions.models import Region

from .exceptions import UnknownRegion
from .ledger_accounts import (
    ACCRUAL_KIND,
    ACCRUED,
    CITIZEN_ACCOUNTS,
    POINTS,
    POINTS_PENDING,
    REDUCTION,
)
from .models import Accrual, CarbonAccount, CitizenRank, CitizenStanding, Level, Role, User
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
JOIN (SELECT l.owner_id, l.balance + COALESCE(x.reduction_g, 0) AS balance
      FROM ledger_ledgeraccount l LEFT JOIN accounts_accrual x ON x.owner_id = l.owner_id
      WHERE l.kind = %s AND l.unit = %s) la ON la.owner_id = ca.id
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
    trailing = "COALESCE(t.g, 0) + COALESCE(x.reduction_g, 0)"  # posted, and credited since
    level_min = f"(SELECT MAX(v.min_trailing_g) FROM {level} v WHERE v.min_trailing_g <= {{}})"
    return f"""
INSERT INTO {standing} (account_id, trailing_g, level_reached_at, computed_at)
SELECT ca.id, {trailing}, CASE WHEN {level_min.format(trailing)} > 0 THEN %s END, %s
FROM {account} ca LEFT JOIN {Accrual._meta.db_table} x ON x.owner_id = ca.id LEFT JOIN (
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


# --- accruals -----------------------------------------------------------------------------
#
# Lock order, on every path (so nothing deadlocks): the carbon account row (crediting, limits,
# reversals) → the accrual rows (in owner order; the job takes its rows with SKIP LOCKED and never
# waits on one) → the ledger accounts (in primary-key order, all of one posting in one statement).
# A credit upserts its citizens' rows before its ledger posting; ``accrual_post`` deletes the
# citizen's row (its lock) before it posts, and before the caller's own posting.

ACCRUALS_CHUNK = 2000
"""Rows the job moves per database transaction (``ACCRUALS_POST_CHUNK``)."""

_ACCRUAL_COLUMNS = ((REDUCTION, 2), (POINTS, 3), (POINTS_PENDING, 4))
"""Each citizen account kind and its column in a taken row ``(id, owner_id, g, pt, pending)``."""


def accruals_add(
    *,
    reduction_g: Mapping[int, int],
    points: Mapping[tuple[int, bool], int],
    actions: Sequence[tuple[int, int]],
) -> list[int]:
    """Add a credit's citizens' grams and points (``(owner, pending)``) and the actions behind them
    (``(owner, action id)``, in the credit's order) to their accrual rows: one upsert, in owner
    order (the order every writer that waits on these rows takes). Call it in the credit's
    transaction, and only when the credit's ledger transaction is new. Returns the owners; their
    summaries are forgotten, as a posting to their accounts would."""
    rows: dict[int, list[int]] = {}
    for owner, grams in reduction_g.items():
        rows.setdefault(owner, [0, 0, 0])[0] += grams
    for (owner, pending), amount in points.items():
        rows.setdefault(owner, [0, 0, 0])[2 if pending else 1] += amount
    owners = sorted(owner for owner, amounts in rows.items() if any(amounts))
    if not owners:
        return []
    table = Accrual._meta.db_table
    # The actions as two flat integer arrays (owner, action), gathered per owner in SQL: an array
    # literal per owner inside a text[] parameter cost 2.7 ms of Python per 1,000 owners (built,
    # then quoted element by element by the driver), these 0.4 (docs/performance/ingest.md,
    # 2026-12-08 session 8).
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS a (owner_id, reduction_g, points, points_pending, action_ids) "
            "SELECT t.o, t.g, t.p, t.pp, coalesce(x.ids, '{}') "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) AS t(o, g, p, pp) "
            "LEFT JOIN (SELECT o, array_agg(id ORDER BY n) AS ids "
            "    FROM unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY AS i(o, id, n) GROUP BY o"
            ") x ON x.o = t.o "
            "ORDER BY 1 ON CONFLICT (owner_id) DO UPDATE SET "
            "reduction_g = a.reduction_g + EXCLUDED.reduction_g, "
            "points = a.points + EXCLUDED.points, "
            "points_pending = a.points_pending + EXCLUDED.points_pending, "
            "action_ids = a.action_ids || EXCLUDED.action_ids",
            [
                pg_array(owners),
                pg_array(rows[o][0] for o in owners),
                pg_array(rows[o][1] for o in owners),
                pg_array(rows[o][2] for o in owners),
                pg_array(owner for owner, _ in actions),
                pg_array(action for _, action in actions),
            ],
        )
    SUMMARIES.forget_many(owners)
    return owners


def accrual_post(*, owner: int, lock: Iterable[int] = ()) -> bool:
    """Post this citizen's unposted accrual to their ledger accounts now, under its row's lock.

    Every path that reads a citizen's balance to spend, reverse, correct, settle or expire it
    calls this first, in its transaction and before it locks any ledger account: ``lock`` names
    (by primary key) the ledger accounts the caller will post to, locked here in one statement with
    the accrual's own, so that no two statements of one transaction take ledger rows out of
    primary-key order (see the lock order above). Whether there was anything to post."""
    return accruals_post_of(owners=[owner], lock=lock) > 0


def accruals_post_of(*, owners: Iterable[int], lock: Iterable[int] = ()) -> int:
    """``accrual_post`` for several citizens at once (their rows locked in owner order); how many
    rows were posted. Waits for a credit or the job that holds one of the rows, and then finds it
    posted (the job deleted it) or posts what the credit added."""
    wanted = sorted(set(owners))
    if not wanted:
        return 0
    table = Accrual._meta.db_table
    with transaction.atomic(savepoint=False):  # a failure rolls back the caller's transaction
        rows = _accruals_take(
            f"SELECT id FROM {table} WHERE owner_id = ANY(%s::bigint[]) ORDER BY owner_id FOR UPDATE",
            [pg_array(wanted)],
        )
        _accruals_move(rows, lock=lock)
    return len(rows)


def accrual_post_with_accounts(
    *, owner: int, keys: Sequence[tuple[str, int, str]]
) -> dict[tuple[str, int, str], AccountRef]:
    """``accrual_post`` for a spend, in the statement that reads the spend's ledger accounts
    (``ledger_accounts_get_or_create``'s look-up): the citizen's row is deleted (its lock, waiting
    for a credit or the job that holds it) and returned with the accounts; when there was one, it is
    posted, the spend's accounts locked with its own. The spend's accounts by key.

    Hand-written SQL, measured: a redemption is seven statements (docs/performance/redeem.md);
    a statement of its own for the accrual made every redemption eight, though the citizen almost
    never has a row left (the job posts them within seconds)."""
    kinds, owners, units = zip(*keys, strict=True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH taken AS (DELETE FROM {Accrual._meta.db_table} WHERE owner_id = %s"
            "    RETURNING id, owner_id, reduction_g, points, points_pending, action_ids) "
            "SELECT a.id, k.kind, k.owner_id, k.unit, a.allow_negative, a.balance, NULL::bigint[], "
            "    NULL::bigint[] "
            "FROM unnest(%s::text[], %s::bigint[], %s::text[]) AS k(kind, owner_id, unit) "
            f"CROSS JOIN LATERAL (SELECT id, allow_negative, balance FROM {LedgerAccount._meta.db_table}"
            "    WHERE kind = k.kind AND owner_id = k.owner_id AND unit = k.unit LIMIT 1) a "
            "UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL,"
            "    ARRAY[id, owner_id, reduction_g, points, points_pending], action_ids FROM taken",
            [owner, pg_array(kinds), pg_array(owners), pg_array(units)],
        )
        rows = cursor.fetchall()
    found = {(r[1], r[2], r[3]): AccountRef(*r[:6]) for r in rows if r[6] is None}
    taken: list[Taken] = [(*r[6], None, None, None, r[7]) for r in rows if r[6] is not None]
    if len(found) < len(set(keys)):
        found |= ledger_accounts_get_or_create(keys=[k for k in keys if k not in found])
    if taken:
        _accruals_move(taken, lock=[a.pk for a in found.values()])
    return found


def accruals_post(*, limit: int | None = None) -> int:
    """The accrual job: move every citizen's unposted accrual (as of the run's start) to their
    ledger accounts, a chunk of rows per transaction (taken ``FOR UPDATE SKIP LOCKED`` in id order, deleted in the same
    transaction, one ledger transaction per chunk); how many rows were posted. Rows a spender or
    another run holds are left to them."""
    chunk: int = limit if limit is not None else settings.ACCRUALS_POST_CHUNK
    table = Accrual._meta.db_table
    # only the rows there when the run starts: a row credited again after its chunk was posted
    # gets a new id and waits for the next run, so a run under constant load ends, and posts each
    # citizen at most once (what merges credits, and saves ledger legs)
    last = Accrual.objects.order_by("-id").values_list("id", flat=True).first()
    if last is None:
        return 0
    done = 0
    while True:
        with transaction.atomic():
            rows = _accruals_take(
                f"SELECT id FROM {table} WHERE id <= %s ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                [last, chunk],
            )
            _accruals_move(rows)
        done += len(rows)
        if len(rows) < chunk:
            return done


Taken = tuple[int, int, int, int, int, int | None, int | None, int | None, list[int]]
"""A taken accrual row: id, owner, grams, points, pending points, the ids of the owner's
reduction, points and pending points ledger accounts (None: not read, or not opened yet), and the
actions credited into it."""


def _accruals_take(locked: str, params: Sequence[int | str]) -> list[Taken]:
    """Delete the rows ``locked`` selects (and locks), returning them with their owners' ledger
    account ids: one statement.

    Hand-written SQL, measured: reading the accounts by their key in a statement of their own
    (``ledger_accounts_get_or_create``: a model-less row per account) was a third of the job's
    Python per row (docs/performance/ingest.md, 2026-12-08)."""
    table, ledger = Accrual._meta.db_table, LedgerAccount._meta.db_table
    account = f"(SELECT id FROM {ledger} WHERE kind = %s AND owner_id = t.owner_id AND unit = %s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH t AS (DELETE FROM {table} WHERE id IN ({locked}) "
            "    RETURNING id, owner_id, reduction_g, points, points_pending, action_ids) "
            "SELECT t.id, t.owner_id, t.reduction_g, t.points, t.points_pending, "
            f"    {account}, {account}, {account}, t.action_ids FROM t ORDER BY t.id",
            [*params, *(part for kind, _ in _ACCRUAL_COLUMNS for part in kind)],
        )
        rows: list[Taken] = cursor.fetchall()
    return rows


def _accruals_move(rows: Sequence[Taken], lock: Iterable[int] = ()) -> None:
    """One ledger transaction: each accrual account → the citizens' accounts, as the rows say;
    ``lock``: more ledger accounts locked with its own, in primary-key order, before it posts.

    Its idempotency key names the rows' ids, which are never reused (each row is deleted by the
    transaction that posts it)."""
    if not rows:
        return
    missing = [
        kind.of(row[1])
        for n, (kind, column) in enumerate(_ACCRUAL_COLUMNS)
        for row in rows
        if row[column] and row[5 + n] is None
    ]
    accounts = ledger_accounts_get_or_create(keys=[*ACCRUED.values(), *missing])
    legs: list[Leg] = []
    for n, (kind, column) in enumerate(_ACCRUAL_COLUMNS):
        moved = []
        for row in rows:
            amount, pk = cast(int, row[column]), cast("int | None", row[5 + n])
            if amount:
                account = (
                    accounts[kind.of(row[1])]
                    if pk is None
                    else AccountRef(pk, kind.kind, row[1], kind.unit, False, 0)
                )
                moved.append(Leg(account, int(amount)))
        total = sum(leg.amount for leg in moved)
        if total:
            legs.append(Leg(accounts[ACCRUED[kind]], -total))
        legs += moved
    if not legs:
        return
    also = set(lock)
    if also:  # the caller's accounts with these, in one statement (the posting's then holds them)
        pks = sorted({leg.account.pk for leg in legs} | also)
        locked = LedgerAccount.objects.select_for_update().filter(pk__in=pks).order_by("pk")
        list(locked.values_list("pk", flat=True))
    ids = [row[0] for row in rows]
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:24]
    actions = sorted(action for row in rows for action in row[8])
    transaction_post_many(
        specs=[
            TransactionSpec(
                kind=ACCRUAL_KIND,
                legs=legs,
                idempotency_key=f"accrual:{ids[0]}-{ids[-1]}:{digest}",
                reference=f"actions:{actions[0]}-{actions[-1]}" if actions else "",
                memo=f"{len(actions)} actions credited",
                metadata={"action_ids": actions},  # each citizen's line traces to its actions
            )
        ]
    )
