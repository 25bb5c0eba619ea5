"""The earn side's ledger transactions, built in one place: credit, funding, settling and reversal.

Pure: each takes what the rules decided and the ledger accounts the caller opened (by key), and
returns the balanced transaction to post: its legs, its idempotency key, its reference and its
metadata. ``runner`` and ``corrections`` post them. ``*_keys`` name the accounts each one moves.

How the keys stay idempotent across a record's history: a record corrected ``n`` times
(``ActionRecord.corrections``) is reversed under ``earn:reverse:<id>:<n>``, credited again under
``earn:correct:<id>:<n + 1>`` and, if its points waited, funded under ``earn:fund:<id>:<n>``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from accounts import ledger_accounts as citizen_ledger
from carbonpoints.budgets import ledger_accounts as budget_ledger
from carbonpoints.ledger.keys import AccountKey
from carbonpoints.ledger.services import Leg, TransactionSpec

from .. import ledger_accounts as earn_ledger
from ..reasons import Reason
from .rules import Credit, points_kind

Accounts = Mapping[tuple[str, int, str], Any]
"""Opened ledger accounts by key (``ledger_accounts_get_or_create``, or locked rows)."""


def credit_transaction(
    outcome: Credit, accounts: Accounts, *, accrued: bool = False
) -> TransactionSpec | None:
    """A batch's one credit: each citizen's grams and points (summed over the batch), each pool's
    claim, the two issuance legs of the grams and the budgets that fund the points.

    ``accrued``: the citizens' side goes to one accrual account per citizen account kind
    (``accounts.ledger_accounts.ACCRUED``), a few legs instead of two per citizen; the caller adds
    each citizen's share to their accrual row (``accounts.services.accruals_add``).

    Its metadata lists the actions, so every gram traces back; its idempotency key is derived
    from them. Nothing to post when no record moved grams.
    """
    if not outcome.records:
        return None
    total_g = sum(outcome.grams_by_owner.values())
    legs = [
        Leg(accounts[earn_ledger.GRAMS_ISSUANCE], -total_g),
        Leg(accounts[earn_ledger.CLAIM_ISSUANCE], -total_g),
    ]
    legs += [Leg(accounts[pool], g) for pool, g in outcome.grams_by_pool.items()]
    legs += [
        Leg(accounts[budget_ledger.BUDGET.of(budget_id)], -p)
        for budget_id, p in outcome.points_by_budget.items()
        if p
    ]
    if accrued:
        points = {False: 0, True: 0}
        for (_owner, pending), p in outcome.points_by_owner.items():
            points[pending] += p
        moves = [
            (citizen_ledger.REDUCTION_ACCRUED, total_g),
            (citizen_ledger.POINTS_ACCRUED, points[False]),
            (citizen_ledger.POINTS_PENDING_ACCRUED, points[True]),
        ]
        legs += [Leg(accounts[key], amount) for key, amount in moves if amount]
    else:
        legs += [
            Leg(accounts[citizen_ledger.REDUCTION.of(owner)], g)
            for owner, g in outcome.grams_by_owner.items()
        ]
        legs += [
            Leg(accounts[points_kind(pending).of(owner)], p)
            for (owner, pending), p in outcome.points_by_owner.items()
            if p
        ]
    ids = sorted(record.id for record in outcome.records if record.id is not None)
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:24]
    return TransactionSpec(
        kind=earn_ledger.CREDIT_KIND,
        legs=legs,
        idempotency_key=f"earn:credit:{ids[0]}-{ids[-1]}:{digest}",
        reference=f"actions:{ids[0]}-{ids[-1]}",
        memo=f"{len(ids)} actions credited",
        metadata={"action_ids": ids},
    )


def credit_keys(
    outcome: Credit, *, accrued: bool = False
) -> tuple[list[AccountKey], list[AccountKey]]:
    """The accounts a credit moves: the citizens' (``accrued``: the accrual accounts), pools' and
    budgets', then the platform's sources (which may go negative)."""
    if accrued:
        keys = [budget_ledger.BUDGET.of(budget_id) for budget_id in outcome.points_by_budget]
        keys += list(outcome.grams_by_pool) + list(citizen_ledger.ACCRUED.values())
        return keys, list(earn_ledger.SOURCES)
    return outcome.account_keys(), list(earn_ledger.SOURCES)


def fund_keys(*, owner: int, budget_id: int, pending: bool) -> list[AccountKey]:
    return [points_kind(pending).of(owner), budget_ledger.BUDGET.of(budget_id)]


def fund_transaction(
    *,
    record_id: int,
    corrections: int,
    owner: int,
    budget_id: int,
    points: int,
    pending: bool,
    accounts: Accounts,
) -> TransactionSpec:
    """A credit that waited for funding, funded whole by a budget now: its points go to the
    citizen, pending during a settling period. A corrected record is credited anew and may wait
    and be funded again: its ``corrections`` number the key."""
    return TransactionSpec(
        kind=budget_ledger.FUND_KIND,
        idempotency_key=f"earn:fund:{record_id}:{corrections}",
        reference=f"action:{record_id}",
        legs=[
            Leg(accounts[budget_ledger.BUDGET.of(budget_id)], -points),
            Leg(accounts[points_kind(pending).of(owner)], points),
        ],
        metadata={"action_ids": [record_id], "budget_id": budget_id},
    )


def settle_keys(*, owner: int) -> list[AccountKey]:
    return [citizen_ledger.POINTS.of(owner), citizen_ledger.POINTS_PENDING.of(owner)]


def settle_transaction(
    *, record_id: int, owner: int, points: int, accounts: Accounts
) -> TransactionSpec:
    """A record's points whose settling period is over: from pending to available."""
    return TransactionSpec(
        kind=earn_ledger.SETTLE_KIND,
        idempotency_key=f"earn:settle:{record_id}",
        reference=f"action:{record_id}",
        legs=[
            Leg(accounts[citizen_ledger.POINTS_PENDING.of(owner)], -points),
            Leg(accounts[citizen_ledger.POINTS.of(owner)], points),
        ],
    )


def reversal_keys(
    *, owner: int, pool: AccountKey, points_source: AccountKey
) -> tuple[list[AccountKey], list[AccountKey]]:
    """The accounts a reversal moves: the citizen's, the pool's and where the points go back,
    then the platform's sources (which may go negative)."""
    keys = [
        citizen_ledger.REDUCTION.of(owner),
        citizen_ledger.POINTS.of(owner),
        citizen_ledger.POINTS_PENDING.of(owner),
        pool,
    ]
    if points_source != earn_ledger.POINTS_ISSUANCE:
        keys.append(points_source)
    return keys, list(earn_ledger.SOURCES)


def reversal_transaction(
    *,
    record_id: int,
    corrections: int,
    owner: int,
    pool: AccountKey,
    grams: int,
    from_available: int,
    from_pending: int,
    points_source: AccountKey,
    code: Reason,
    reason: str,
    accounts: Accounts,
) -> TransactionSpec | None:
    """A credited record taken back: its grams from the citizen and from the pool's claim to their
    issuance, and its points (from the citizen's available and pending points, as
    ``corrections.reversal_split`` decided) back to ``points_source``. Nothing to post when it
    moves nothing.

    It is posted with ``corrects`` naming the batch's credit; the record's ``corrections`` so far
    number its key (a corrected record may be reversed again).
    """
    moves = [
        (citizen_ledger.REDUCTION.of(owner), -grams),
        (earn_ledger.GRAMS_ISSUANCE, grams),
        (pool, -grams),
        (earn_ledger.CLAIM_ISSUANCE, grams),
        (citizen_ledger.POINTS.of(owner), -from_available),
        (citizen_ledger.POINTS_PENDING.of(owner), -from_pending),
        (points_source, from_available + from_pending),
    ]
    legs = [Leg(accounts[key], amount) for key, amount in moves if amount]
    if not legs:
        return None
    return TransactionSpec(
        kind=earn_ledger.REVERSE_KIND,
        legs=legs,
        idempotency_key=f"earn:reverse:{record_id}:{corrections}",
        reference=f"action:{record_id}",
        memo=f"{code}: {reason}"[:255],
        metadata={"action_ids": [record_id], "code": str(code), "reason": reason},
    )


def correct_key(*, record_id: int, corrections: int) -> str:
    """The key of a corrected record's new credit (its batch's key names the same action ids):
    ``corrections`` counts this correction."""
    return f"earn:correct:{record_id}:{corrections}"
