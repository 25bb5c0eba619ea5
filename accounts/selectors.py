"""Reads of people and their carbon accounts; balances come from the ledger's running balances."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from carbonpoints.ledger.models import LedgerAccount

from .ledger_accounts import POINTS, POINTS_PENDING, REDUCTION
from .models import CarbonAccount, CitizenRank, IdentityLink


@dataclass(frozen=True)
class Level:
    code: str
    name: StrOrPromise
    min_g: int


LEVELS = (
    Level("sprout", _("Sprout"), 0),
    Level("sapling", _("Sapling"), 10_000),
    Level("tree", _("Tree"), 50_000),
    Level("grove", _("Grove"), 200_000),
    Level("forest", _("Forest"), 1_000_000),
)
"""Levels by grams contributed, lowest first."""


def level_for(reduction_g: int) -> dict:
    """The citizen's level and how far it is to the next one."""
    index = max(i for i, level in enumerate(LEVELS) if reduction_g >= level.min_g)
    level = LEVELS[index]
    following = LEVELS[index + 1] if index + 1 < len(LEVELS) else None
    return {
        "code": level.code,
        "name": str(level.name),
        "min_g": level.min_g,
        "next_code": following.code if following else None,
        "next_min_g": following.min_g if following else None,
        "to_next_g": following.min_g - reduction_g if following else 0,
    }


def _rank(position, of_total, ahead_of_percent, computed_at) -> dict:
    """Position among all citizens by grams contributed (1 is the most), as of the last ranking.

    A citizen who joined after the last ranking is not placed yet: every figure is None.
    """
    if position is None:
        return {"position": None, "of": None, "ahead_of_percent": None, "as_of": None}
    return {"position": position, "of": of_total, "ahead_of_percent": ahead_of_percent, "as_of": computed_at}


def carbon_account_balances(*, account: CarbonAccount) -> dict[str, int]:
    """The three balances of a carbon account, read in one query."""
    wanted: dict[tuple[str, str], str] = {REDUCTION: "reduction_g", POINTS: "available", POINTS_PENDING: "pending"}
    rows = LedgerAccount.objects.filter(
        owner_id=account.pk, kind__in=[kind for kind, _ in wanted]
    ).values_list("kind", "unit", "balance")
    balances = {name: 0 for name in wanted.values()}
    for kind, unit, balance in rows:
        name = wanted.get((kind, unit))
        if name:
            balances[name] = balance
    return balances


def _summary_sql(where: str) -> str:
    """The account page's figures of one carbon account in one statement: its three running
    balances (each a lookup of the ledger's unique (kind, owner_id, unit) index, 0 before its
    first posting) and its rank row (NULLs before its first ranking)."""
    account, rank, ledger = CarbonAccount._meta.db_table, CitizenRank._meta.db_table, LedgerAccount._meta.db_table
    balance = (f"COALESCE((SELECT l.balance FROM {ledger} l"
               f" WHERE l.kind = %s AND l.owner_id = a.id AND l.unit = %s), 0)")
    return (f"SELECT {balance}, {balance}, {balance}, r.position, r.of_total, r.ahead_of_percent, r.computed_at"
            f" FROM {account} a LEFT JOIN {rank} r ON r.account_id = a.id WHERE a.{where} = %s")


_SUMMARY_BY = {"id": _summary_sql("id"), "user_id": _summary_sql("user_id")}
"""The account page is the API's most frequent read (every app start, every refresh): one
statement instead of three (carbon account, balances, rank), written once as SQL because building
and compiling the same three-subquery ORM query cost more CPU per request than running it."""


def _summary_row(column: str, value: int) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(_SUMMARY_BY[column], [*REDUCTION, *POINTS, *POINTS_PENDING, value])
        return cursor.fetchone()


def _summary(reduction_g: int, available: int, pending: int, *rank) -> dict:
    return {
        "reduction_g": reduction_g,
        "points": {"available": available, "pending": pending},
        "level": level_for(reduction_g),
        "rank": _rank(*rank),
    }


def carbon_account_summary(*, account: CarbonAccount) -> dict:
    """What the app and the portal show on the account page."""
    return _summary(*_summary_row("id", account.pk))  # type: ignore[misc]  # the row exists for an account


def citizen_account_summary(*, user_id: int) -> dict | None:
    """The account page of this user's carbon account, or None if the user has none (not a citizen).

    Read by user id, so the request needs no separate query for the carbon account.
    """
    row = _summary_row("user_id", user_id)
    return None if row is None else _summary(*row)


@dataclass(frozen=True)
class LinkedMember:
    """A partner's member id linked to a carbon account, and the action types consented to."""

    account_id: int
    actions: frozenset[str]


def linked_members(*, members: set[tuple[int, str]]) -> dict[tuple[int, str], LinkedMember]:
    """Active links of many ``(partner_id, member id)`` pairs, read as rows in one query.

    The pipeline asks this for thousands of members at a time, so no model instances.
    """
    if not members:
        return {}
    by_partner: dict[int, set[str]] = {}
    for partner_id, subject in members:
        by_partner.setdefault(partner_id, set()).add(subject)
    match = Q()
    for partner_id, subjects in by_partner.items():
        match |= Q(partner_id=partner_id, subject__any=sorted(subjects))
    rows = IdentityLink.objects.filter(match, revoked_at__isnull=True).values_list(
        "partner_id", "subject", "account_id", Cast("consent_scope", TextField()))
    scopes: dict[str, frozenset[str]] = {}  # most links of a partner share one scope: decode each once
    linked = {}
    for partner_id, subject, account_id, scope in rows:
        actions = scopes.get(scope)
        if actions is None:
            actions = scopes[scope] = frozenset((json.loads(scope) or {}).get("actions", ()))
        linked[(partner_id, subject)] = LinkedMember(account_id, actions)
    return linked


ACCOUNT_NAMES = {REDUCTION[0]: "reduction", POINTS[0]: "points", POINTS_PENDING[0]: "points_pending"}


def citizen_postings(*, account: CarbonAccount, unit: str | None = None, account_name: str | None = None,
                     kind: str | None = None, since=None, until=None):
    """The citizen's postings (newest first) with the running balance of their ledger account."""
    from carbonpoints.ledger.selectors import account_postings

    names = {name: kind_ for kind_, name in ACCOUNT_NAMES.items()}
    kinds = [names[account_name]] if account_name in names else list(ACCOUNT_NAMES)
    ids = list(LedgerAccount.objects.filter(owner_id=account.pk, kind__in=kinds).values_list("pk", flat=True))
    postings = account_postings(account_ids=ids)
    if unit:
        postings = postings.filter(unit=unit)
    if kind:
        postings = postings.filter(transaction__kind=kind)
    if since:
        postings = postings.filter(created_at__gte=since)
    if until:
        postings = postings.filter(created_at__lt=until)
    return postings
