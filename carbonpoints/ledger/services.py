"""The only writers of the ledger.

Every posting goes through ``transaction_post``: it checks that the legs sum to zero per unit,
locks the accounts it touches in primary-key order (so two writers never deadlock), refuses to
take a bounded account below zero, appends the postings with their running balances and
updates the balances, all in one database transaction. An idempotency key makes a retry return
the first transaction instead of posting twice.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from carbonpoints.bulk import ids_draw, insert_parts
from carbonpoints.lookups import pg_array

from .exceptions import IdempotencyConflict, InsufficientBalance, UnbalancedTransaction
from .models import PLATFORM, LedgerAccount, LedgerCheckRun, LedgerTransaction, Posting
from .selectors import ledger_check
from .signals import balances_changed


class Leg(NamedTuple):
    """``amount`` (an integer in the account's unit) moves into ``account``; negative moves out.

    Immutable, and a tuple: a credit builds thousands, and a frozen dataclass cost twice as much
    to make."""

    account: LedgerAccount | AccountRef
    amount: int


def ledger_account_get_or_create(
    *, kind: str, unit: str, owner_id: int = PLATFORM, allow_negative: bool = False
) -> LedgerAccount:
    """The account of ``owner_id`` of this kind and unit, opened on first use."""
    account, _ = LedgerAccount.objects.get_or_create(
        kind=kind, owner_id=owner_id, unit=unit, defaults={"allow_negative": allow_negative}
    )
    return account


def _fingerprint(kind: str, legs: Sequence[Leg]) -> str:
    """What a retry must repeat exactly for its idempotency key to answer with the first result."""
    pairs = sorted((leg.account.pk, leg.amount) for leg in legs)
    return hashlib.sha256(
        f"{kind}|{','.join(f'{pk}:{amount}' for pk, amount in pairs)}".encode()
    ).hexdigest()


def _check_balanced(legs: Sequence[Leg]) -> None:
    if len(legs) < 2:
        raise UnbalancedTransaction("a transaction needs at least two legs")
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        if not isinstance(leg.amount, int) or isinstance(leg.amount, bool):
            raise UnbalancedTransaction(f"amounts are whole numbers, not {leg.amount!r}")
        if leg.amount == 0:
            raise UnbalancedTransaction("a leg moves a non-zero amount")
        totals[leg.account.unit] += leg.amount
    unbalanced = {unit: total for unit, total in totals.items() if total != 0}
    if unbalanced:
        raise UnbalancedTransaction(f"legs do not sum to zero: {unbalanced}")


def _existing(idempotency_key: str, kind: str, legs: Sequence[Leg]) -> LedgerTransaction:
    existing = LedgerTransaction.objects.get(idempotency_key=idempotency_key)
    if existing.fingerprint != _fingerprint(kind, legs):
        raise IdempotencyConflict(
            f"idempotency key {idempotency_key!r} was used for another transaction"
        )
    existing.replayed = True
    return existing


def transaction_post(
    *,
    kind: str,
    legs: Sequence[Leg],
    idempotency_key: str | None = None,
    reference: str = "",
    memo: str = "",
    metadata: dict[str, Any] | None = None,
    corrects: LedgerTransaction | None = None,
) -> LedgerTransaction:
    """Post a balanced transaction; with a known ``idempotency_key``, return the first one.

    One data-modifying statement (``_post_one``): it locks the accounts in primary-key order,
    computes each leg's running balance from the locked rows and, only when no bounded account
    goes below zero, inserts the transaction with ``ON CONFLICT DO NOTHING`` (the unique key
    decides a replay, no read first), its postings, and sets the balances. A refusal writes
    nothing: the statement answers the locked balances and the refusal is raised from them, as
    it was when the lock was a statement of its own. Inside a caller's transaction no savepoint
    is made: every refusal is raised before the first write, and a failed write marks the
    caller's transaction for rollback. Callers holding hot rows should post last.
    """
    _check_balanced(legs)
    outer = connection.in_atomic_block
    with contextlib.nullcontext() if outer else transaction.atomic():
        ledger_tx = LedgerTransaction(
            kind=kind,
            idempotency_key=idempotency_key,
            reference=reference,
            memo=memo,
            metadata=metadata or {},
            fingerprint=_fingerprint(kind, legs) if idempotency_key else "",
            corrects=corrects,
        )
        try:
            tx_id, locked = _post_one(ledger_tx, legs)
        except DatabaseError:
            if outer:
                transaction.set_rollback(True)
            raise
        balances = {pk: balance for pk, (balance, _) in locked.items()}
        for leg in legs:
            pk = leg.account.pk
            if pk not in locked:
                raise LedgerAccount.DoesNotExist(f"ledger account {pk} does not exist")
            balances[pk] += leg.amount
            if tx_id is None and balances[pk] < 0 and not locked[pk][1]:
                # a replay of a posting that drained the account answers with that posting
                if (
                    idempotency_key
                    and LedgerTransaction.objects.filter(idempotency_key=idempotency_key).exists()
                ):
                    return _existing(idempotency_key, kind, legs)
                raise InsufficientBalance(
                    leg.account, needed=-leg.amount, available=balances[pk] - leg.amount
                )
        if tx_id is None:  # the key is known (a concurrent writer with it has committed)
            assert idempotency_key is not None  # only a keyed insert can find its key taken
            return _existing(idempotency_key, kind, legs)
        ledger_tx.pk = tx_id
        ledger_tx._state.adding, ledger_tx._state.db = False, connection.alias
        for leg in legs:
            # hand the caller fresh balances on the objects it passed in
            leg.account.balance = balances[leg.account.pk]
        _balances_changed(leg.account for leg in legs)
    return ledger_tx


def _post_one(
    ledger_tx: LedgerTransaction, legs: Sequence[Leg]
) -> tuple[int | None, dict[int, tuple[int, bool]]]:
    """Lock, check and write one transaction in one statement: ``(its id, the locked accounts)``.

    Hand-written SQL, measured: the ORM's four statements (lock, transaction, postings, balances)
    cost 28 % of a redemption's CPU and three round trips (docs/performance/redeem.md,
    2026-12-07 b). The ``locked`` CTE takes the row locks in primary-key order (a ``LockRows`` over
    the sort, and ``FOR UPDATE`` reads the latest committed balance); every write reads from it,
    so nothing is written before the locks are held. ``ok`` is false when a leg takes an account
    that may not go negative below zero (or an account is missing): then nothing is inserted and
    ``id`` is ``NULL``. A known idempotency key inserts nothing either (``ON CONFLICT DO
    NOTHING``); the postings and balances follow only an inserted transaction. The postings are
    inserted in leg order by one statement, so the sum-to-zero trigger sees the whole transaction.
    ``ledger_account_no_overdraft`` still guards the balances underneath.
    """
    account_ids = sorted({leg.account.pk for leg in legs})
    tx_table, tx_columns, tx_params = insert_parts(ledger_tx)
    accounts = LedgerAccount._meta.db_table
    sql = f"""
WITH legs AS (
    SELECT * FROM unnest(%s::bigint[], %s::text[], %s::bigint[]) WITH ORDINALITY
        AS l(account_id, unit, amount, n)
), locked AS MATERIALIZED (
    SELECT id, balance, allow_negative FROM {accounts}
    WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE
), run AS MATERIALIZED (
    SELECT l.n, l.account_id, l.unit, l.amount, k.allow_negative,
           k.balance + (sum(l.amount) OVER (PARTITION BY l.account_id ORDER BY l.n))::bigint
               AS balance_after
    FROM legs l JOIN locked k ON k.id = l.account_id
), ok AS (
    SELECT (SELECT count(*) FROM locked) = %s
           AND NOT EXISTS (SELECT 1 FROM run WHERE balance_after < 0 AND NOT allow_negative) AS ok
), tx AS (
    INSERT INTO {tx_table} ({tx_columns}) SELECT {", ".join(["%s"] * len(tx_params))} FROM ok
    WHERE ok.ok ON CONFLICT DO NOTHING RETURNING id, created_at
), postings AS (
    INSERT INTO {Posting._meta.db_table}
        (transaction_id, account_id, unit, amount, balance_after, created_at)
    SELECT tx.id, run.account_id, run.unit, run.amount, run.balance_after, tx.created_at
    FROM tx CROSS JOIN run ORDER BY run.n
), balances AS (
    UPDATE {accounts} a SET balance = f.balance_after
    FROM (SELECT DISTINCT ON (account_id) account_id, balance_after FROM run
          ORDER BY account_id, n DESC) f, locked k, tx
    WHERE a.id = f.account_id AND k.id = f.account_id AND a.id = ANY(%s::bigint[])
      AND f.balance_after <> k.balance
)
SELECT (SELECT id FROM tx), array_agg(id), array_agg(balance), array_agg(allow_negative)
FROM locked
"""
    ids = pg_array(account_ids)
    params = [
        pg_array([leg.account.pk for leg in legs]),
        pg_array([leg.account.unit for leg in legs]),
        pg_array([leg.amount for leg in legs]),
        ids,
        len(account_ids),
        *tx_params,
        ids,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        tx_id, pks, balances, negatives = cursor.fetchone()
    locked = {
        pk: (balance, allow_negative)
        for pk, balance, allow_negative in zip(
            pks or (), balances or (), negatives or (), strict=True
        )
    }
    return tx_id, locked


def _balances_changed(accounts: Any) -> None:
    balances_changed.send(
        sender=LedgerAccount, owners={(account.kind, account.owner_id) for account in accounts}
    )


def transaction_reverse(
    *, original: LedgerTransaction, idempotency_key: str | None = None, memo: str = ""
) -> LedgerTransaction:
    """Undo ``original`` with a new transaction of opposite legs that references it."""
    legs = [
        Leg(account=p.account, amount=-p.amount)
        for p in original.postings.select_related("account")
    ]
    return transaction_post(
        kind="correction",
        legs=legs,
        idempotency_key=idempotency_key or f"reverse:{original.pk}",
        reference=original.reference,
        memo=memo or f"reverses #{original.pk}",
        corrects=original,
    )


def ledger_check_record() -> LedgerCheckRun:
    """Run ``ledger_check`` and keep its outcome, so operators see it in the admin."""
    run = LedgerCheckRun.objects.create()
    report = ledger_check()
    run.finished_at = timezone.now()
    run.ok = report.ok
    run.accounts_checked = report.accounts_checked
    run.transactions_checked = report.transactions_checked
    run.problems = report.problems
    run.figures = report.figures
    run.save()
    return run


@dataclass(frozen=True)
class TransactionSpec:
    """One transaction of a bulk posting (see ``transaction_post_many``)."""

    kind: str
    legs: Sequence[Leg]
    idempotency_key: str
    reference: str = ""
    memo: str = ""
    metadata: dict[str, Any] | None = None


def transaction_post_many(*, specs: Sequence[TransactionSpec]) -> list[LedgerTransaction]:
    """Post many balanced transactions at once, with the guarantees of ``transaction_post``.

    For pipelines that credit thousands of actions: the accounts are locked once (in primary-key
    order), known idempotency keys are looked up in one query and answer with their first
    transaction, and the rest is written with a few set-based statements (each statement holds
    whole transactions, so the database's sum-to-zero guard sees every transaction complete).
    Every spec needs an idempotency key, and keys are unique within one call.

    Callers that hold other locks should call this last before commit: the platform's issuance
    accounts are locked by every crediting, so the shorter they are held the less writers queue.
    """
    keys = [spec.idempotency_key for spec in specs]
    if not all(keys) or len(set(keys)) != len(keys):
        raise ValueError("every transaction of a bulk posting needs its own idempotency key")
    for spec in specs:
        _check_balanced(spec.legs)
    if not specs:
        return []
    # Hashed before the locks: the platform's accounts are held from the lock to the commit, and
    # a credit's fingerprint sorts and hashes thousands of legs.
    fingerprints = [_fingerprint(spec.kind, spec.legs) for spec in specs]
    by_key_fingerprint = dict(zip(keys, fingerprints, strict=True))
    with transaction.atomic():
        account_ids = sorted({leg.account.pk for spec in specs for leg in spec.legs})
        # Lock and read fresh balances as plain tuples: model instances cost more than the lock.
        locked = _lock_balances(account_ids)
        existing = {tx.idempotency_key: tx for tx in _with_keys(keys)}
        if existing:
            for key, tx in existing.items():
                if tx.fingerprint != by_key_fingerprint[key]:
                    raise IdempotencyConflict(
                        f"idempotency key {key!r} was used for another transaction"
                    )
                tx.replayed = True
        fresh = [spec for spec in specs if spec.idempotency_key not in existing]

        balances = {pk: balance for pk, (balance, _) in locked.items()}
        now = timezone.now()
        new_txs = [
            LedgerTransaction(
                kind=spec.kind,
                idempotency_key=spec.idempotency_key,
                reference=spec.reference,
                memo=spec.memo,
                metadata=spec.metadata or {},
                created_at=now,
                fingerprint=by_key_fingerprint[spec.idempotency_key],
            )
            for spec in fresh
        ]
        rows: list[
            list[tuple[int, str, int, int]]
        ] = []  # per transaction: (account_id, unit, amount, balance_after)
        for spec in fresh:
            legs: list[tuple[int, str, int, int]] = []
            for leg in spec.legs:
                pk = leg.account.pk
                balance = balances[pk] + leg.amount
                balances[pk] = balance
                if balance < 0 and not locked[pk][1]:
                    raise InsufficientBalance(
                        leg.account, needed=-leg.amount, available=balance - leg.amount
                    )
                legs.append((pk, leg.account.unit, leg.amount, balance))
            rows.append(legs)

        _insert_copy(new_txs, rows, now)
        changed = {pk: balance for pk, balance in balances.items() if balance != locked[pk][0]}
        _balances_set(changed)
        for spec in specs:
            for leg in spec.legs:
                leg.account.balance = balances[leg.account.pk]
        if changed:
            _balances_changed(leg.account for spec in fresh for leg in spec.legs)
    by_key = {tx.idempotency_key: tx for tx in new_txs} | existing
    return [by_key[key] for key in keys]


def _lock_balances(account_ids: list[int]) -> dict[int, tuple[int, bool]]:
    """Lock the accounts in primary-key order; their balances and whether they may go negative."""
    with connection.cursor() as cursor:  # plain rows: the ORM's iterator cost more than the locks
        cursor.execute(
            f"SELECT id, balance, allow_negative FROM {LedgerAccount._meta.db_table} "
            "WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE",
            [pg_array(account_ids)],
        )
        return {pk: (balance, allow_negative) for pk, balance, allow_negative in cursor.fetchall()}


def _with_keys(keys: list[str]) -> Any:
    """Transactions with these idempotency keys: one array parameter, not an IN list of thousands
    of literals to format and plan."""
    return LedgerTransaction.objects.raw(
        f"SELECT * FROM {LedgerTransaction._meta.db_table} WHERE idempotency_key = ANY(%s::text[])",
        [pg_array(keys)],
    )


def _insert_copy(
    new_txs: list[LedgerTransaction], rows: list[list[tuple[int, str, int, int]]], now: datetime
) -> None:
    """Ids drawn from the sequence in one query, then two COPYs (no model per posting).

    The postings of all transactions go in with one COPY, one statement, so the statement-level
    sum-to-zero trigger sees every transaction whole; their ids follow the row order, which keeps
    running balances in id order.
    """
    if not new_txs:
        return
    from psycopg.types.json import Jsonb

    tx_table = LedgerTransaction._meta.db_table
    with connection.cursor() as cursor:
        ids = ids_draw(cursor, tx_table, len(new_txs))
        with cursor.cursor.copy(
            f"COPY {tx_table} (id, kind, idempotency_key, fingerprint, reference, memo, metadata, created_at) "
            "FROM STDIN"
        ) as copy:
            for pk, tx in zip(ids, new_txs, strict=True):
                tx.pk = pk
                tx._state.adding, tx._state.db = False, connection.alias
                copy.write_row(
                    (
                        pk,
                        tx.kind,
                        tx.idempotency_key,
                        tx.fingerprint,
                        tx.reference,
                        tx.memo,
                        Jsonb(tx.metadata),
                        now,
                    )
                )
        with cursor.cursor.copy(
            f"COPY {Posting._meta.db_table} (transaction_id, account_id, unit, amount, balance_after, created_at) "
            "FROM STDIN"
        ) as copy:
            # Integers, a unit code and one timestamp: text lines need no escaping and cost far
            # less than psycopg's per-value adaptation of write_row.
            stamp = now.isoformat()
            copy.write(
                "".join(
                    f"{pk}\t{account_id}\t{unit}\t{amount:d}\t{balance_after:d}\t{stamp}\n"
                    for pk, legs in zip(ids, rows, strict=True)
                    for account_id, unit, amount, balance_after in legs
                )
            )


def _balances_set(balances: dict[int, int]) -> None:
    """Write new balances of many accounts in one statement per chunk."""
    if not balances:
        return
    table = LedgerAccount._meta.db_table
    ids = pg_array(balances)
    with connection.cursor() as cursor:
        # ``id = ANY(ids)`` as well as the join: the accounts are then found by their primary
        # key whatever the statistics say; joined alone, a table that grew since its last
        # ANALYZE was scanned whole into a hash (4× the time, growing with the accounts).
        cursor.execute(
            f"UPDATE {table} SET balance = v.balance FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, balance) "
            f"WHERE {table}.id = v.id AND {table}.id = ANY(%s::bigint[])",
            [ids, pg_array(balances.values()), ids],
        )


@dataclass(slots=True)
class AccountRef:
    """What a leg needs of an account (``ledger_accounts_get_or_create`` returns thousands)."""

    pk: int
    kind: str
    owner_id: int
    unit: str
    allow_negative: bool
    balance: int

    def __str__(self) -> str:
        return f"{self.kind}#{self.owner_id} ({self.unit})"


def _accounts_read(keys: set[tuple[str, int, str]]) -> dict[tuple[str, int, str], AccountRef]:
    kinds, owners, units = zip(*keys, strict=True)  # one join against the unique key, three arrays
    with connection.cursor() as cursor:
        cursor.execute(
            # LATERAL … LIMIT 1: one lookup of the unique index per key, whatever the
            # statistics of a fast-growing table say (see carbonpoints/earn/pipeline/store.py)
            f"SELECT a.id, k.kind, k.owner_id, k.unit, a.allow_negative, a.balance "
            "FROM unnest(%s::text[], %s::bigint[], %s::text[]) AS k(kind, owner_id, unit) "
            f"CROSS JOIN LATERAL (SELECT id, allow_negative, balance FROM {LedgerAccount._meta.db_table} "
            "    WHERE kind = k.kind AND owner_id = k.owner_id AND unit = k.unit LIMIT 1) a",
            [pg_array(kinds), pg_array(owners), pg_array(units)],
        )
        rows = cursor.fetchall()
    return {(row[1], row[2], row[3]): AccountRef(*row) for row in rows}


def ledger_accounts_get_or_create(
    *,
    keys: Sequence[tuple[str, int, str]],
    allow_negative: bool = False,
    sources: Sequence[tuple[str, int, str]] = (),
) -> dict[tuple[str, int, str], AccountRef]:
    """Many accounts by ``(kind, owner_id, unit)``, opened on first use: one query when they all exist.

    ``sources``: more accounts, read in the same query, that are opened as ones that may go
    negative (the platform's issuance), whatever ``allow_negative`` says of ``keys``.
    """
    wanted = set(keys)
    negative = set(sources)
    if allow_negative:
        negative |= wanted
    wanted |= negative
    if not wanted:
        return {}
    found = _accounts_read(wanted)  # the common case: every account exists, one query and no write
    if len(found) < len(wanted):
        missing = wanted - found.keys()
        LedgerAccount.objects.bulk_create(
            [
                LedgerAccount(kind=k, owner_id=o, unit=u, allow_negative=(k, o, u) in negative)
                for k, o, u in missing
            ],
            ignore_conflicts=True,
        )
        found |= _accounts_read(missing)
    return found
