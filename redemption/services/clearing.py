"""Writes of clearing between regions: each spend's clearing posted to the ledger by a job.

Never on a request's path: beat runs ``redemption.post_clearing`` nightly (after the
settlements), and ``seed_demo`` once at its end. Each spend (a redemption or donation, a till's
checkout) made up to ``until`` and not refunded first gets one transaction, kind ``clearing``,
key ``clearing:<redemption|checkout>:<id>``: from the clearing account of each region whose
budgets funded its points (oldest first, ``redemption.clearing.replay``) to the merchant's
region's. A spend at a merchant of the region that funded it is posted too (from the region's
funded account to its own merchants' account), so that each region's "spent" adds up in the
ledger; only the statement leaves it out. A refunded spend's clearing is reversed by a correcting
transaction, key ``clearing:refund:<…>``, and its points go back to where they were drawn.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from carbonpoints.ledger.models import LedgerTransaction
from carbonpoints.ledger.services import (
    Leg,
    TransactionSpec,
    ledger_accounts_get_or_create,
    transaction_post,
    transaction_post_many,
)

from .. import ledger_accounts as spend_ledger
from ..clearing import Drawn, Spend
from ..clearing_selectors import (
    REFUND_KIND,
    clearing_key,
    clearing_transactions,
    histories,
    local_month,
    refund_key,
    uncleared_citizens,
)

CHUNK = 500
"""Citizens replayed and posted per database transaction."""


def clearing_post(*, until: datetime | None = None) -> int:
    """Post the clearing of every spend made by ``until`` (now) that is not cleared yet, and
    reverse the clearing of spends refunded since; returns how many transactions were posted.
    Idempotent: a spend's clearing and its reversal have their own keys, so a re-run (or two at
    once) posts nothing twice."""
    until = until or timezone.now()
    citizens = sorted(uncleared_citizens(until=until))
    posted = 0
    for start in range(0, len(citizens), CHUNK):
        with transaction.atomic():
            posted += _post_chunk(citizens[start : start + CHUNK], until)
    return posted


def _post_chunk(citizens: list[int], until: datetime) -> int:
    spends: list[tuple[Spend, list[Drawn]]] = []
    for history in histories(citizens=citizens, until=until).values():
        drawn: dict[str, list[Drawn]] = defaultdict(list)
        for part in history.replay().drawn:
            drawn[part.spend.key].append(part)
        spends += [(spend, drawn[spend.key]) for spend in history.spends]
    keys = [clearing_key(spend.key) for spend, _parts in spends]
    known = clearing_transactions(
        keys=keys + [refund_key(spend.key) for spend, _p in spends if spend.refunded_at]
    )
    # a spend refunded before its clearing was posted: nothing to post, nothing to reverse
    due = [
        (spend, parts)
        for spend, parts in spends
        if clearing_key(spend.key) not in known and spend.refunded_at is None and spend.points > 0
    ]
    transaction_post_many(specs=_specs(due))
    undone = 0
    for spend, _parts in spends:
        original = known.get(clearing_key(spend.key))
        if spend.refunded_at and original is not None and refund_key(spend.key) not in known:
            _reverse(original, spend)
            undone += 1
    return len(due) + undone


def _specs(spends: list[tuple[Spend, list[Drawn]]]) -> list[TransactionSpec]:
    """Each spend's clearing: each funding region's share out, the whole spend in to its
    merchant's region (the points no budget funded out of the unfunded account)."""
    rows = []
    for spend, parts in spends:
        funded: dict[int, int] = defaultdict(int)
        for part in parts:
            funded[spend_ledger.region_owner(part.funded_in)] += part.points
        rows.append((spend, parts, funded, spend.points - sum(funded.values())))
    accounts = ledger_accounts_get_or_create(
        keys=[
            key
            for spend, _parts, funded, _u in rows
            for key in (
                *(spend_ledger.CLEARING_FUNDED.of(owner) for owner in funded),
                spend_ledger.CLEARING_FUNDED.of(spend_ledger.UNFUNDED),
                spend_ledger.CLEARING_TAKEN.of(spend_ledger.region_owner(spend.region)),
            )
        ],
        allow_negative=True,
    )
    specs = []
    for spend, parts, funded, unfunded in rows:
        legs = [
            Leg(accounts[spend_ledger.CLEARING_FUNDED.of(owner)], -points)
            for owner, points in sorted(funded.items())
        ]
        if unfunded:
            legs.append(
                Leg(accounts[spend_ledger.CLEARING_FUNDED.of(spend_ledger.UNFUNDED)], -unfunded)
            )
        taken = spend_ledger.CLEARING_TAKEN.of(spend_ledger.region_owner(spend.region))
        legs.append(Leg(accounts[taken], spend.points))
        specs.append(
            TransactionSpec(
                kind=spend_ledger.CLEARING_KIND,
                legs=legs,
                idempotency_key=clearing_key(spend.key),
                reference=spend.key,
                memo=f"clearing of {spend.key}",
                metadata={
                    "spend": spend.key,
                    "at": spend.at.isoformat(),
                    "month": local_month(spend.at),
                    "merchant_region": spend.region,
                    "points": spend.points,
                    "unfunded": unfunded,
                    "parts": [[part.funded_in, part.budget_id, part.points] for part in parts],
                },
            )
        )
    return specs


def _reverse(original: LedgerTransaction, spend: Spend) -> None:
    """The clearing of a refunded spend undone, in the month of the refund."""
    assert spend.refunded_at is not None
    legs = [
        Leg(posting.account, -posting.amount)
        for posting in original.postings.select_related("account")
    ]
    transaction_post(
        kind=REFUND_KIND,
        legs=legs,
        idempotency_key=refund_key(spend.key),
        reference=spend.key,
        memo=f"clearing of {spend.key} reversed: refunded",
        metadata={
            "spend": spend.key,
            "at": spend.refunded_at.isoformat(),
            "month": local_month(spend.refunded_at),
        },
        corrects=original,
    )
