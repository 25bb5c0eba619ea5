"""Reads of people and their carbon accounts; balances come from the ledger's running balances."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from django.apps import apps
from django.db import connection
from django.utils.translation import get_language

from carbonpoints.ledger.models import LedgerAccount
from carbonpoints.readcache import ReadCache
from carbonpoints.regions.codes import default as default_region

from .ledger_accounts import (
    ACCRUAL_KIND,
    ACCRUED,
    CREDIT_KIND_SEEN,
    POINTS,
    POINTS_PENDING,
    REDUCTION,
)
from .models import Accrual, CarbonAccount, CitizenRank, CitizenStanding, Level


def level_name(level) -> str:
    """A level's name in the reader's language."""
    return level.name_en if get_language() == "en" else level.name_zh_hans


def _level(code, name_zh_hans, name_en, min_g, next_code, next_min_g, trailing_g) -> dict:
    """The citizen's level (by trailing-12-month reduction) and how far it is to the next one."""
    return {
        "code": code,
        "name": name_en if get_language() == "en" else name_zh_hans,
        "min_g": min_g,
        "next_code": next_code,
        "next_min_g": next_min_g,
        "to_next_g": next_min_g - trailing_g if next_min_g is not None else 0,
        "trailing_12m_g": trailing_g,
    }


def _rank(position, of_total, ahead_of_percent, computed_at) -> dict:
    """Position among all citizens by grams contributed (1 is the most), as of the last ranking.

    A citizen who joined after the last ranking is not placed yet: every figure is None.
    """
    if position is None:
        return {"position": None, "of": None, "ahead_of_percent": None, "as_of": None}
    return {
        "position": position,
        "of": of_total,
        "ahead_of_percent": ahead_of_percent,
        "as_of": computed_at,
    }


def carbon_account_balances(*, account: CarbonAccount) -> dict[str, int]:
    """The three balances of a carbon account: its ledger accounts' and its unposted accrual."""
    wanted: dict[tuple[str, str], str] = {
        REDUCTION: "reduction_g",
        POINTS: "available",
        POINTS_PENDING: "pending",
    }
    rows = LedgerAccount.objects.filter(
        owner_id=account.pk, kind__in=[kind for kind, _ in wanted]
    ).values_list("kind", "unit", "balance")
    balances = {name: 0 for name in wanted.values()}
    for kind, unit, balance in rows:
        name = wanted.get((kind, unit))
        if name:
            balances[name] = balance
    accrued = Accrual.objects.filter(owner_id=account.pk).first()  # credited, not posted yet
    if accrued is not None:
        balances["reduction_g"] += accrued.reduction_g
        balances["available"] += accrued.points
        balances["pending"] += accrued.points_pending
    return balances


def _summary_sql(where: str) -> str:
    """The account page's figures of one carbon account in one statement: its three running
    balances (each a lookup of the ledger's unique (kind, owner_id, unit) index, 0 before its
    first posting, plus its unposted accrual, 0 when it has none), its rank row (NULLs before
    its first ranking), and its level and the next one
    from its trailing-12-month reduction (0 before its first standing) against the level table."""
    account, rank, ledger = (
        CarbonAccount._meta.db_table,
        CitizenRank._meta.db_table,
        LedgerAccount._meta.db_table,
    )
    standing, level = CitizenStanding._meta.db_table, Level._meta.db_table
    balance = (
        f"COALESCE((SELECT l.balance FROM {ledger} l"
        f" WHERE l.kind = %s AND l.owner_id = a.id AND l.unit = %s), 0)"
        f" + COALESCE(x.{{}}, 0)"
    )
    trailing = "COALESCE(s.trailing_g, 0)"
    reached = (
        f"(SELECT v.{{}} FROM {level} v WHERE v.min_trailing_g <= {trailing}"
        f" ORDER BY v.min_trailing_g DESC LIMIT 1)"
    )
    following = (
        f"(SELECT v.{{}} FROM {level} v WHERE v.min_trailing_g > {trailing}"
        f" ORDER BY v.min_trailing_g LIMIT 1)"
    )
    levels = ", ".join(
        [
            *(reached.format(c) for c in ("code", "name_zh_hans", "name_en", "min_trailing_g")),
            following.format("code"),
            following.format("min_trailing_g"),
            trailing,
        ]
    )
    owed = (
        f"COALESCE((SELECT SUM(e.points) FROM {_actions_table()} e WHERE e.account_id = a.id"
        " AND NOT e.points_settled AND e.points_available_at IS NULL AND e.state = 'credited'), 0)"
    )
    return (
        f"SELECT {balance.format('reduction_g')}, {balance.format('points')},"
        f" {balance.format('points_pending')}, {owed}, a.home_region_id,"
        f" r.position, r.of_total, r.ahead_of_percent, r.computed_at, {levels}"
        f" FROM {account} a LEFT JOIN {rank} r ON r.account_id = a.id"
        f" LEFT JOIN {standing} s ON s.account_id = a.id"
        f" LEFT JOIN {Accrual._meta.db_table} x ON x.owner_id = a.id WHERE a.{where} = %s"
    )


def _actions_table() -> str:
    """The earn side's records, whose credits waiting for a budget are the points the citizen is
    owed: read in the account page's one statement (by the index of those credits alone)."""
    return apps.get_model("earn", "ActionRecord")._meta.db_table


@functools.cache
def _summary_statement() -> str:
    """The account page is the API's most frequent read (every app start, every refresh): one
    statement instead of three (carbon account, balances, rank), written once as SQL because
    building and compiling the same three-subquery ORM query cost more CPU per request than running
    it (built on first use: the earn side's table is named by its model)."""
    return _summary_sql("id")


def _summary_row(account_id: int) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(_summary_statement(), [*REDUCTION, *POINTS, *POINTS_PENDING, account_id])
        return cursor.fetchone()


def _summary(
    reduction_g: int,
    available: int,
    pending: int,
    owed: int,
    home_region: str | None,
    *rank_and_level,
) -> dict:
    return {
        "reduction_g": reduction_g,
        "points": {"available": available, "pending": pending},
        "points_owed": owed,
        "home_region": home_region or default_region(),
        "home_region_chosen": home_region is not None,
        "level": _level(*rank_and_level[4:]),
        "rank": _rank(*rank_and_level[:4]),
    }


SUMMARIES: ReadCache[tuple | None] = ReadCache("account_summary", timeout_s=300)
"""Each carbon account's summary row (balances, rank, standing and the levels they reach), by
account id: the app reads it on every start and refresh. Forgotten when the ledger posts to the
account (``carbonpoints.ledger.signals.balances_changed``) or its rank or standing row is saved,
and for everyone by a recomputation of ranks or standings or a change of levels (``signals``)."""


def carbon_account_summary(
    *, account: CarbonAccount, read: Mapping[str, Any] | None = None
) -> dict:
    """What the app and the portal show on the account page (the row from :data:`SUMMARIES`).

    ``read``: :data:`SUMMARIES`' keys of this account, read already with the request's sign-in
    (``accounts.authentication.one_read``)."""
    row = SUMMARIES.get(account.pk, lambda: _summary_row(account.pk), read=read)
    assert row is not None  # the row of an account exists
    return _summary(*row)


def citizen_account_summary(*, user, read_ahead: Any = None) -> dict | None:
    """The account page of this user's carbon account, or None if the user has none (not a citizen).

    ``read_ahead``: what the request's sign-in read (``accounts.authentication.read_ahead``)."""
    account = getattr(user, "carbon_account", None)
    if account is None:
        return None
    read = read_ahead.summary(account.pk) if read_ahead is not None else None
    return carbon_account_summary(account=account, read=read)


ACCOUNT_NAMES = {
    REDUCTION[0]: "reduction",
    POINTS[0]: "points",
    POINTS_PENDING[0]: "points_pending",
}


def citizen_postings(
    *,
    account: CarbonAccount,
    unit: str | None = None,
    account_name: str | None = None,
    kind: str | None = None,
    since=None,
    until=None,
):
    """The citizen's postings (newest first) with the running balance of their ledger account."""
    from carbonpoints.ledger.selectors import account_postings

    names = {name: kind_ for kind_, name in ACCOUNT_NAMES.items()}
    kinds = [names[account_name]] if account_name in names else list(ACCOUNT_NAMES)
    ids = list(
        LedgerAccount.objects.filter(owner_id=account.pk, kind__in=kinds).values_list(
            "pk", flat=True
        )
    )
    postings = account_postings(account_ids=ids)
    if unit:
        postings = postings.filter(unit=unit)
    if kind:  # a credit reaches the citizen in the batch's credit, or later by its accrual
        kinds = [kind, ACCRUAL_KIND] if kind == CREDIT_KIND_SEEN else [kind]
        postings = postings.filter(transaction__kind__in=kinds)
    if since:
        postings = postings.filter(created_at__gte=since)
    if until:
        postings = postings.filter(created_at__lt=until)
    return postings


def accruals_ledger_problems() -> dict[str, Any]:
    """``ledger_check``'s proof of the accruals (a ``LEDGER_CHECKS`` hook): each accrual account
    holds exactly the sum of the citizens' unposted accrual rows, and no row is negative.

    One statement, so a credit or the job committing meanwhile cannot make a false difference."""
    table, ledger = Accrual._meta.db_table, LedgerAccount._meta.db_table
    columns = {key: column for key, column in zip(ACCRUED.values(), _ACCRUAL_COLUMNS, strict=True)}
    sums = ", ".join(f"COALESCE(SUM({column}), 0)" for column in columns.values())
    negative = " OR ".join(f"{column} < 0" for column in columns.values())
    balances = ", ".join(
        f"(SELECT COALESCE(SUM(balance), 0) FROM {ledger} WHERE kind = %s AND unit = %s)"
        for _ in columns
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.*, {balances} FROM (SELECT count(*), count(*) FILTER (WHERE {negative}),"
            f" {sums} FROM {table}) r",
            [part for key in columns for part in (key.kind, key.unit)],
        )
        rows, negatives, *figures = (int(v) for v in cursor.fetchone())
    held, posted = figures[: len(columns)], figures[len(columns) :]
    problems: list[dict[str, Any]] = []
    for key, rows_sum, balance in zip(columns, held, posted, strict=True):
        if rows_sum != balance:
            problems.append(
                {
                    "check": "accrual_mismatch",
                    "kind": key.kind,
                    "balance": balance,
                    "rows": rows_sum,
                }
            )
    if negatives:
        problems.append({"check": "accrual_negative", "rows": negatives})
    return {
        "name": "accruals",
        "problems": problems,
        "figures": {"rows": rows, **dict(zip(columns.values(), held, strict=True))},
    }


_ACCRUAL_COLUMNS = ("reduction_g", "points", "points_pending")
"""The accrual row's column of each citizen account kind, in ``ACCRUED``'s order."""
