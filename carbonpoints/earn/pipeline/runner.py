"""When the rules run: transactions, locks and partitions around ``rules`` and ``store``.

Two entrances share one crediting path:
- ``records_take_in``: a partner's new records, decided and inserted in their final state in the
  partner's own request (the normal case: one write per record);
- ``batch_process``: what must wait for later (records released when their citizen links, or
  approved by an operator), claimed from the database by the worker and written back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.services import accruals_add, accruals_post_of
from carbonpoints.budgets import ledger_accounts as budget_ledger
from carbonpoints.budgets.rules import Earn, Funding
from carbonpoints.ledger.exceptions import InsufficientBalance
from carbonpoints.ledger.models import LedgerTransaction
from carbonpoints.ledger.services import (
    TransactionSpec,
    ledger_accounts_get_or_create,
    transaction_post_many,
)
from carbonpoints.methodologies.selectors import Catalogue

from ..models import Batch
from . import postings, rules, store
from .rules import Credit, Decided, Policy, Record

T = TypeVar("T")

CHUNK = 5000
"""Records a worker run takes at a time by default (``EARN_PIPELINE_CHUNK``)."""


def policy(now: datetime | None = None) -> Policy:
    return Policy(
        now=now or timezone.now(),
        tz=timezone.get_current_timezone(),
        clock_skew=timedelta(seconds=settings.EARN_CLOCK_SKEW_S),
        backfill=timedelta(days=settings.EARN_BACKFILL_DAYS),
        hold=timedelta(days=settings.EARN_UNLINKED_HOLD_DAYS),
        settling=timedelta(days=settings.EARN_SETTLING_DAYS),
        duplicate_tolerance=timedelta(seconds=settings.EARN_DUPLICATE_TOLERANCE_S),
    )


def _post(decided: Decided, idempotency_key: str | None = None) -> None:
    """The counters, the carried remainders and the one ledger transaction of what was decided.

    The ledger goes last: the issuance and budget accounts are hot rows, held only until commit.
    """
    store.usage_add(decided.usage)
    store.carries_save(decided.credit.carries)
    accrued = settings.EARN_ACCRUALS
    spec = _credit_spec(decided.credit, accrued=accrued)
    if spec is None:
        return
    if idempotency_key is not None:
        spec = replace(spec, idempotency_key=idempotency_key)
    added = accrued and _accrue(decided.credit, spec)
    (posted,) = _budget_post([spec])
    if added and posted.replayed:
        raise store.Raced()  # a concurrent writer posted this credit first: its accruals count


def _accrue(credit: Credit, spec: TransactionSpec) -> bool:
    """Add the credit's citizens' shares to their accrual rows, unless its ledger transaction was
    posted before (a replay never accrues twice); whether they were added.

    Before the posting, so the platform's hot accounts are not held through the upsert; the rows
    are locked in owner order, before any ledger account (the lock order of
    ``accounts.services``). A key posted concurrently between this look and the posting is found
    by the posting, and the attempt is made again (``store.Raced``)."""
    if LedgerTransaction.objects.filter(idempotency_key=spec.idempotency_key).exists():
        return False
    actions: list[tuple[int, int]] = []
    for record in credit.records:
        assert record.account_id is not None and record.id is not None, "credited records only"
        actions.append((record.account_id, record.id))
    accruals_add(reduction_g=credit.grams_by_owner, points=credit.points_by_owner, actions=actions)
    return True


def _budget_post(specs: list[TransactionSpec]) -> list[LedgerTransaction]:
    """Post transactions that draw on budgets. The budgets' balances were read without a lock when
    the rules chose them; if a concurrent batch drew one down first, the ledger refuses the
    overdraft and the caller decides again from fresh balances (``store.Raced``)."""
    try:
        return transaction_post_many(specs=specs)
    except InsufficientBalance as refused:
        if getattr(refused.account, "kind", "") == budget_ledger.BUDGET.kind:
            raise store.Raced() from refused
        raise


def _credit_spec(credit: Credit, *, accrued: bool) -> TransactionSpec | None:
    if not credit.records:
        return None
    keys, sources = postings.credit_keys(credit, accrued=accrued)
    accounts = ledger_accounts_get_or_create(keys=keys, sources=sources)
    return postings.credit_transaction(credit, accounts, accrued=accrued)


ATTEMPTS = 5


def _until_not_raced(work: Callable[[int], T]) -> T:
    """``work(attempt)`` in a transaction of its own, again while a concurrent writer wins a race
    (``store.Raced``: a resend stored first, a budget drawn down first); at most ``ATTEMPTS`` times."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                return work(attempt)
        except store.Raced:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def records_take_in(
    *, records: list[Record], batch: Batch, partner_id: int, catalogue: Catalogue | None = None
) -> dict[str, Record]:
    """A partner's new records, each decided and inserted once in its final state.

    Runs in its own transaction (a savepoint inside the caller's), retried when a concurrent
    resend of the same records wins a race. Returns the records inserted, by external id; the
    others were sent before (duplicates). ``catalogue``: the one intake checked the events
    against (read once per request), else read here.
    """
    catalogue = catalogue or Catalogue()

    def attempt(n: int) -> dict[str, Record]:
        # after a race, decide again from the records as sent
        return _take_in(
            records if n == 0 else [Record(**_as_sent(r)) for r in records],
            batch,
            partner_id,
            catalogue,
        )

    return _until_not_raced(attempt)


def _as_sent(record: Record) -> dict:
    return {
        name: getattr(record, name)
        for name in (
            "partner_id",
            "batch_id",
            "external_id",
            "subject",
            "action",
            "quantity",
            "unit",
            "occurred_at",
            "ends_at",
            "received_at",
            "attributes",
            "raw",
            "attributes_json",
            "region_id",
        )
    }


def _take_in(
    records: list[Record], batch: Batch, partner_id: int, catalogue: Catalogue
) -> dict[str, Record]:
    now = timezone.now()
    decided = rules.decide(records, catalogue, policy(now), store, new=True)
    fresh = [r for r in records if r.external_id not in decided.resent]
    store.records_insert(fresh, batch_id=batch.pk, partner_id=partner_id, now=now)
    _post(decided)
    return {r.external_id: r for r in fresh}


# --- the worker ---------------------------------------------------------------------------


def _chunk_size() -> int:
    return getattr(settings, "EARN_PIPELINE_CHUNK", CHUNK)


def _process_chunk(*, batch_id, partition: tuple[int, int] | None = None) -> int:
    """One chunk of pending records, in one database transaction: claimed, decided, written;
    decided again when a budget was drawn down meanwhile."""
    return _until_not_raced(lambda _n: _chunk_once(batch_id=batch_id, partition=partition))


def _chunk_once(*, batch_id, partition: tuple[int, int] | None) -> int:
    store.worker_transaction_setup()
    records = store.records_claim(batch_id=batch_id, limit=_chunk_size(), partition=partition)
    if not records:
        return 0
    now = timezone.now()
    decided = rules.decide(records, Catalogue(), policy(now), store)
    store.records_update(records, now)
    _post(decided)
    return len(records)


def _run(*, batch_id, partition: tuple[int, int] | None = None) -> int:
    done = 0
    while (taken := _process_chunk(batch_id=batch_id, partition=partition)) == _chunk_size():
        done += taken  # a shorter chunk means the rest, if any, is locked by another run that will finish it
    return done + taken


def _drain() -> int:
    """Every pending record, whatever its batch, one partition at a time.

    With ``EARN_PIPELINE_PARTITIONS`` = n > 1, concurrent runs each take a partition
    of the queue by member id under an advisory lock, so they do not queue on the citizens they
    would share. A run that finds a partition taken leaves it to its holder, which looks again
    after letting go: records committed meanwhile are never stranded.
    """
    n = getattr(settings, "EARN_PIPELINE_PARTITIONS", 1)
    if n <= 1:
        return _run(batch_id=None)
    done = 0
    for p in range(n):
        while store.partition_lock(p):
            try:
                done += _run(batch_id=None, partition=(p, n))
            finally:
                store.partition_unlock(p)
            if not store.partition_pending(p, n):
                break
    return done


def batch_process(*, batch_id=None) -> int:
    """A batch's pending records, then every other pending record; how many were processed.

    The batch's own records go first and commit on their own, so a record that fails elsewhere
    in the queue never holds this batch back.
    """
    done = _run(batch_id=batch_id) if batch_id is not None else 0
    return done + _drain()


def record_redecide(*, record_id: int, idempotency_key: str) -> Record:
    """One stored record decided again by the worker's rules (a corrected quantity): quantified,
    verified, capped, credited and written back; its credit posted under ``idempotency_key``
    (the batch's own key names the same action ids, so a new one is given)."""

    def attempt(_n: int) -> Record:
        records = store.records_lock([record_id])
        now = timezone.now()
        decided = rules.decide(records, Catalogue(), policy(now), store)
        store.records_update(records, now)
        _post(decided, idempotency_key)
        return records[0]

    return _until_not_raced(attempt)


# --- periodic work ------------------------------------------------------------------------


def points_settle(*, limit: int = CHUNK) -> int:
    """Move points whose settling period is over from pending to available."""
    with transaction.atomic():
        due = store.settling_due(limit)
        owners = {account_id for _, account_id, _ in due}
        accounts = ledger_accounts_get_or_create(
            keys=[k for o in owners for k in postings.settle_keys(owner=o)]
        )
        # their pending points may still be accrued: posted first, under the same locks
        accruals_post_of(owners=owners, lock=[a.pk for a in accounts.values()])
        transaction_post_many(
            specs=[
                postings.settle_transaction(
                    record_id=pk, owner=owner, points=points, accounts=accounts
                )
                for pk, owner, points in due
                if points
            ]
        )
        store.settled([pk for pk, _, _ in due])
    return len(due)


def credits_fund(*, limit: int = CHUNK) -> int:
    """Credits whose points waited for funding, funded in the order they were credited as far as
    the budgets in force allow (after a deposit, or a throttle lifted); how many were funded.

    A waiting credit is funded whole, never scaled after the fact; its points settle like any
    other (pending first when there is a settling period).
    """
    return _until_not_raced(lambda _n: _fund_once(limit))


def _whole(points: int) -> Earn:
    """A waiting credit's points, owed whole: no share and no remainder is decided again."""
    return lambda _share: (points, 0)


def _fund_once(limit: int) -> int:
    waiting = store.awaiting_funding(limit)
    if not waiting:
        return 0
    now_policy = policy()
    funding = Funding(store.funding(now_policy.now))
    funded: list[tuple[Record, rules.BudgetState]] = []
    for record in waiting:
        choice = funding.choose(
            record.action, _whole(record.points or 0), may_scale=False, region=record.region_id
        )
        if choice.budget is not None:
            funded.append((record, choice.budget))
    if not funded:
        return 0
    settles = now_policy.settling > timedelta(0)
    accounts = ledger_accounts_get_or_create(
        keys=[
            key
            for record, budget in funded
            if record.account_id is not None
            for key in postings.fund_keys(
                owner=record.account_id, budget_id=budget.id, pending=settles
            )
        ]
    )
    specs = []
    for record, budget in funded:
        assert record.account_id is not None and record.id is not None, "credited records only"
        specs.append(
            postings.fund_transaction(
                record_id=record.id,
                corrections=record.corrections,
                owner=record.account_id,
                budget_id=budget.id,
                points=record.points or 0,
                pending=settles,
                accounts=accounts,
            )
        )
        rules.funded(record, budget, now_policy)
    _budget_post(specs)
    store.funded([record for record, _ in funded], now_policy.now)
    return len(funded)


def unlinked_expire() -> int:
    """Held records whose citizen did not link in time expire (set-based)."""
    return store.unlinked_expire(timezone.now())


def unlinked_release(*, partner_id: int, subject: str) -> tuple[list[str], int]:
    """A citizen linked this subject: its held records go back to verification.

    Returns the batches to process again (the caller enqueues them after commit) and how many
    records were released.
    """
    return store.unlinked_release(partner_id=partner_id, subject=subject, now=timezone.now())


def unlinked_since_linked() -> list[str]:
    """Held records whose member id was linked after they were held: the batches to process."""
    return store.unlinked_since_linked(timezone.now())


MAX_PIPELINE_RUNS = 20
"""A batch run this often without finishing is left to an operator (a poison batch would loop)."""


def batch_run_record(*, batch_id) -> None:
    """Count a worker run on the batch."""
    store.batch_run_count(batch_id=batch_id, now=timezone.now())


def stuck_batches(*, older_than: timedelta = timedelta(minutes=5), limit: int = 200) -> list[str]:
    """Batches with records waiting in a pending state for longer than a run should take."""
    return store.batches_with_pending(
        updated_before=timezone.now() - older_than, max_runs=MAX_PIPELINE_RUNS, limit=limit
    )
