"""Reads of people and their carbon accounts; balances come from the ledger's running balances."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from carbonpoints.ledger.models import LedgerAccount

from .ledger_accounts import POINTS, POINTS_PENDING, REDUCTION
from .models import CarbonAccount, CitizenRank, IdentityLink


@dataclass(frozen=True)
class Level:
    code: str
    name: str
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


def rank_for(*, account: CarbonAccount) -> dict:
    """Position among all citizens by grams contributed (1 is the most), as of the last ranking.

    A citizen who joined after the last ranking is not placed yet: every figure is None.
    """
    mine = CitizenRank.objects.filter(account=account).first()
    if mine is None:
        return {"position": None, "of": None, "ahead_of_percent": None, "as_of": None}
    return {
        "position": mine.position,
        "of": mine.of_total,
        "ahead_of_percent": mine.ahead_of_percent,
        "as_of": mine.computed_at,
    }


def carbon_account_balances(*, account: CarbonAccount) -> dict[str, int]:
    """The three balances of a carbon account, read in one query."""
    wanted = {REDUCTION: "reduction_g", POINTS: "available", POINTS_PENDING: "pending"}
    rows = LedgerAccount.objects.filter(
        owner_id=account.pk, kind__in=[kind for kind, _ in wanted]
    ).values_list("kind", "unit", "balance")
    balances = {name: 0 for name in wanted.values()}
    for kind, unit, balance in rows:
        name = wanted.get((kind, unit))
        if name:
            balances[name] = balance
    return balances


def carbon_account_summary(*, account: CarbonAccount) -> dict:
    """What the app and the portal show on the account page."""
    balances = carbon_account_balances(account=account)
    return {
        "reduction_g": balances["reduction_g"],
        "points": {"available": balances["available"], "pending": balances["pending"]},
        "level": level_for(balances["reduction_g"]),
        "rank": rank_for(account=account),
    }


def identity_links_active(*, partner_id: int, subjects) -> dict[str, IdentityLink]:
    """The active links of these member ids at one partner, by member id (one query)."""
    links = IdentityLink.objects.filter(partner_id=partner_id, subject__in=list(subjects), revoked_at__isnull=True)
    return {link.subject: link for link in links}


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
