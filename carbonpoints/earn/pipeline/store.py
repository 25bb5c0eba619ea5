"""Every statement of the earn pipeline: the rows the rules read (``rules.Reads``: this module
is what ``rules.decide`` reads through), and what they decided, written set-based.

The store returns rows and the rules decide. The hot statements are hand-written over ``unnest``
of one array literal per column: a batch's thousands of values as a few parameters, looked up by
index (the measurements are in docs/performance/ingest.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import msgspec
import psycopg
from django.db import connection
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from accounts.models import CarbonAccount
from carbonpoints.budgets.rules import BudgetState
from carbonpoints.budgets.selectors import funding_in_force
from carbonpoints.bulk import bulk_set, ids_draw
from carbonpoints.lookups import pg_array
from carbonpoints.regions.codes import default as default_region

from ..models import (
    COUNTED_STATES,
    PENDING_STATES,
    ActionRecord,
    ActionState,
    Batch,
    CapUsage,
    CitizenCarry,
    IdentityLink,
)
from ..reasons import Reason
from ..selectors import LinkedMember, linked_members
from .rules import Overlap, Record, UsageKey

TABLE = ActionRecord._meta.db_table
_decode = msgspec.json.Decoder().decode
MAX_DURATION_S = 7 * 86400
"""The longest action a partner may report (``attributes.duration_s``)."""


def _execute(sql: str, params: Sequence[Any] | Mapping[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


# --- context read up front ------------------------------------------------------------------
#
# Each lookup of many keys is written as ``unnest(keys) CROSS JOIN LATERAL (… LIMIT 1 | OFFSET 0)``:
# a subquery the planner can neither flatten nor turn inside out, so it looks each key up in its
# index. Written as plain joins, the planner trusted statistics that lag behind a table growing
# by thousands of rows a second (52,000 records of a partner counted as 282) and walked every
# record of the partner for each key: one second per request, growing with the table.


def links(records: Iterable[Record]) -> dict[tuple[int, str], LinkedMember]:
    """The active links of the records' member ids, in one query (``selectors.linked_members``)."""
    return linked_members(members={(r.partner_id, r.subject) for r in records})


def citizens_lock(account_ids: Iterable[int]) -> None:
    """Serialise verification and crediting per citizen, so caps and carries hold across batches.

    Rows are locked in primary-key order, the one global order every crediting takes (then the
    ledger's accounts, also in key order), so concurrent batches that share citizens queue and
    never deadlock.
    """
    ids = sorted(set(account_ids))
    if not ids:
        return
    _execute(
        f"SELECT id FROM {CarbonAccount._meta.db_table} WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE",
        [pg_array(ids)],
    )


def known_external_ids(*, partner_id: int, external_ids: list[str]) -> set[str]:
    """Which of these external ids the partner sent before (by its unique key)."""
    if not external_ids:
        return set()
    # one lookup of the unique index each, whatever the statistics say (see ``links``)
    return {
        row[0]
        for row in _execute(
            f"SELECT k.external_id FROM unnest(%s::text[]) AS k(external_id) "
            f"CROSS JOIN LATERAL (SELECT 1 FROM {TABLE} WHERE partner_id = %s AND external_id = k.external_id "
            f"LIMIT 1) a",
            [pg_array(external_ids), partner_id],
        )
    }


def usage(windows: set[tuple[int, str, date, date]]) -> dict[UsageKey, int]:
    """Cap usage counted so far on the days of ``windows``, by citizen, action type and day."""
    if not windows:
        return {}
    keys = list(windows)
    rows = _execute(
        "SELECT k.account_id, k.action, u.day, u.counted_micro "
        "FROM unnest(%s::bigint[], %s::text[], %s::date[], %s::date[]) AS k(account_id, action, first, last) "
        f"CROSS JOIN LATERAL (SELECT day, counted_micro FROM {CapUsage._meta.db_table} "
        "    WHERE account_id = k.account_id AND action = k.action AND day >= k.first AND day < k.last "
        "    OFFSET 0) u",
        [
            pg_array(k[0] for k in keys),
            pg_array(k[1] for k in keys),
            pg_array(k[2].isoformat() for k in keys),
            pg_array(k[3].isoformat() for k in keys),
        ],
    )
    return {(account_id, action, day): micro for account_id, action, day, micro in set(rows)}


def usage_add(added: Mapping[UsageKey, int]) -> None:
    """Add what a batch counted to the citizens' cap usage: one upsert."""
    if not added:
        return
    keys = list(added)
    _execute(
        f"INSERT INTO {CapUsage._meta.db_table} AS u (account_id, action, day, counted_micro) "
        "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::date[], %s::bigint[]) "
        "ON CONFLICT (account_id, action, day) DO UPDATE SET counted_micro = u.counted_micro + EXCLUDED.counted_micro",
        [
            pg_array(k[0] for k in keys),
            pg_array(k[1] for k in keys),
            pg_array(k[2].isoformat() for k in keys),
            pg_array(added.values()),
        ],
    )


def overlapping_trips(candidates: list[Record], tolerance: timedelta) -> dict[int, list[Overlap]]:
    """For each candidate (by position), the counted records of the same citizen and action type
    whose time overlaps its own within ``tolerance``, oldest first (``rules.Overlap``); whether one
    is a duplicate is the rules' to decide (``rules.duplicate_of``).

    Each candidate looks only at its own window of the citizen's time index (no trip lasts longer
    than ``MAX_DURATION_S``), so the cost does not grow with the citizen's history.
    """
    if not candidates:
        return {}
    rows = _execute(
        "SELECT k.n, a.partner_id, a.external_id, a.claim "
        "FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::timestamptz[]) "
        "     WITH ORDINALITY AS k(account_id, action, starts, ends, n) "
        "CROSS JOIN LATERAL (SELECT id, occurred_at, partner_id, external_id, "
        "                           (attributes ->> 'claim_id') IS NOT NULL AS claim "
        f"    FROM {TABLE} "
        "     WHERE account_id = k.account_id AND occurred_at >= k.starts - %s AND occurred_at <= k.ends "
        "     AND action = k.action AND ends_at >= k.starts AND state = ANY(%s::text[]) OFFSET 0) a "
        "ORDER BY k.n, a.occurred_at, a.id",
        [
            pg_array(r.account_id for r in candidates),
            pg_array(r.action for r in candidates),
            pg_array(r.occurred_at - tolerance for r in candidates),
            pg_array(r.ends_at + tolerance for r in candidates),
            timedelta(seconds=MAX_DURATION_S),
            pg_array(COUNTED_STATES),
        ],
    )
    found: dict[int, list[Overlap]] = {}
    for n, partner_id, external_id, claim in rows:
        found.setdefault(n - 1, []).append(Overlap(partner_id, external_id, claim))
    return found


def carries(owners: Iterable[int]) -> dict[int, int]:
    """The citizens' carried remainders (their citizens are locked by the caller)."""
    owners = set(owners)
    if not owners:
        return {}
    return dict(
        CitizenCarry.objects.filter(account_id__any=owners).values_list("account_id", "remainder_g")
    )


def carries_save(changed: Mapping[int, int]) -> None:
    if not changed:
        return
    _execute(  # one upsert of two arrays: no model instance per citizen
        f"INSERT INTO {CitizenCarry._meta.db_table} (account_id, remainder_g) "
        "SELECT * FROM unnest(%s::bigint[], %s::bigint[]) "
        "ON CONFLICT (account_id) DO UPDATE SET remainder_g = EXCLUDED.remainder_g",
        [pg_array(changed), pg_array(changed.values())],
    )


# --- records: inserted once, in their final state ---------------------------------------------

_encode = msgspec.json.Encoder(decimal_format="string").encode


class Raced(Exception):
    """A concurrent request stored one of these records first (a partner's resend crossing the
    first send), or drew a budget down below what these credits need: the caller rolls back and
    decides again, and then finds the records stored, or the budget's fresh balance."""


_COPIED = (
    "id",
    "partner_id",
    "batch_id",
    "external_id",
    "subject",
    "action",
    "quantity",
    "unit",
    "occurred_at",
    "ends_at",
    "attributes",
    "raw",
    "received_at",
    "state",
    "reason",
    "capped",
    "review",
    "account_id",
    "methodology_id",
    "conversion_rule_id",
    "reduction_g",
    "counted_quantity",
    "credited_g",
    "points",
    "points_available_at",
    "points_settled",
    "budget_id",
    "hold_until",
    "explanation",
    "credited_at",
    "updated_at",
    "region_id",
)


def _text(value: str) -> str:
    """A value of COPY's text format: backslash, tab and line breaks escaped (NUL is refused at intake)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


_SPECIAL = ("\\", "\t", "\n", "\r")


def _copy_line(
    r: Record, explanation: str, head: str, tail: str, iso: dict[datetime, str], escape: bool
) -> str:
    """One record as a line of COPY's text format, in the order of ``_COPIED``.

    One f-string: the record's values in place, the nullable ones as conditional expressions (a
    tuple joined with a call per value cost twice as much). ``iso`` memoises the times a batch
    shares (received, credited, available at); ``escape``: some text of the batch needs COPY's
    escapes (looked for once per batch, by ``_needs_escape``).
    """
    external_id, subject, unit, attributes, raw = (
        r.external_id,
        r.subject,
        r.unit,
        r.attributes_json,
        r.raw,
    )
    if escape:
        external_id, subject, unit, attributes, raw, explanation = (
            _text(external_id),
            _text(subject),
            _text(unit),
            _text(attributes),
            _text(raw),
            _text(explanation),
        )
    occurred = r.occurred_at.isoformat()
    ends = occurred if r.ends_at == r.occurred_at else r.ends_at.isoformat()
    n = "\\N"
    return (
        f"{r.id}\t{head}\t{external_id}\t{subject}\t{r.action}\t{r.quantity:f}\t{unit}\t{occurred}\t{ends}\t"
        f"{attributes}\t{raw}\t{_shared_time(r.received_at, iso)}\t{r.state}\t{r.reason}\t"
        f"{'t' if r.capped else 'f'}\t\t{n if r.account_id is None else r.account_id}\t"
        f"{n if r.methodology_id is None else r.methodology_id}\t"
        f"{n if r.conversion_rule_id is None else r.conversion_rule_id}\t"
        f"{n if r.reduction_g is None else r.reduction_g}\t"
        f"{n if r.counted_quantity is None else format(r.counted_quantity, 'f')}\t"
        f"{n if r.credited_g is None else r.credited_g}\t{n if r.points is None else r.points}\t"
        f"{_shared_time(r.points_available_at, iso)}\t{'t' if r.points_settled else 'f'}\t"
        f"{n if r.budget_id is None else r.budget_id}\t{_shared_time(r.hold_until, iso)}\t{explanation}\t"
        f"{_shared_time(r.credited_at, iso)}\t{tail}\t{r.region_id or default_region()}\n"
    )


def _shared_time(value: datetime | None, iso: dict[datetime, str]) -> str:
    if value is None:
        return "\\N"
    text = iso.get(value)
    if text is None:
        text = iso[value] = value.isoformat()
    return text


def _needs_escape(records: list[Record], explanations: list[str]) -> bool:
    """Whether any text of these records holds a character COPY's text format escapes: one look
    at the batch's texts joined, instead of four per text of each line."""
    texts = "".join(
        [f"{r.external_id}{r.subject}{r.unit}{r.attributes_json}{r.raw}" for r in records]
        + explanations
    )
    return any(c in texts for c in _SPECIAL)


def records_insert(records: list[Record], *, batch_id, partner_id: int, now: datetime) -> None:
    """Insert new records in their final state, setting their ids.

    Ids drawn from the sequence in one query, then one COPY of text lines built here,
    the fastest way in (an ``INSERT … FROM unnest`` of 30 array literals cost three times as much:
    building, quoting and parsing the literals). A record a concurrent request inserted first
    fails the unique key: ``Raced``. The caller has read, under its citizens' locks, which of
    these records were stored before.
    """
    if not records:
        return
    with connection.cursor() as cursor:
        for record, pk in zip(records, ids_draw(cursor, TABLE, len(records)), strict=True):
            record.id = pk
        head, tail = f"{partner_id}\t{batch_id}", now.isoformat()
        try:
            with cursor.cursor.copy(f"COPY {TABLE} ({', '.join(_COPIED)}) FROM STDIN") as copy:
                iso: dict[datetime, str] = {}
                explanations = [_encode(r.explanation).decode() for r in records]
                escape = _needs_escape(records, explanations)
                copy.write(
                    "".join(
                        [
                            _copy_line(r, e, head, tail, iso, escape)
                            for r, e in zip(records, explanations, strict=True)
                        ]
                    )
                )
        except psycopg.errors.UniqueViolation as exc:
            raise Raced() from exc


def _column(records: list[Record], name: str) -> str:
    if name == "explanation":
        return pg_array(_encode(r.explanation).decode() for r in records)
    if name == "counted_quantity":
        return pg_array(
            None if r.counted_quantity is None else format(r.counted_quantity, "f") for r in records
        )
    return pg_array(getattr(r, name) for r in records)


_WRITTEN = {
    "id": "bigint",
    "state": "text",
    "reason": "text",
    "capped": "boolean",
    "account_id": "bigint",
    "methodology_id": "bigint",
    "conversion_rule_id": "bigint",
    "reduction_g": "bigint",
    "counted_quantity": "numeric",
    "credited_g": "bigint",
    "points": "bigint",
    "points_available_at": "timestamptz",
    "points_settled": "boolean",
    "budget_id": "bigint",
    "hold_until": "timestamptz",
    "explanation": "jsonb",
    "credited_at": "timestamptz",
}
_UPDATE = (
    f"UPDATE {TABLE} a SET "
    + ", ".join(f"{name} = o.{name}" for name in _WRITTEN if name != "id")
    + ", updated_at = %s "
    + "FROM unnest("
    + ", ".join(f"%s::{t}[]" for t in _WRITTEN.values())
    + ") "
    + f"AS o({', '.join(_WRITTEN)}) WHERE a.id = o.id"
)


def records_update(records: list[Record], now: datetime) -> None:
    """Write what the rules decided of stored records back, in one statement: the rows joined to
    ``unnest`` of one array per column, so the planner looks each record up by its primary key.
    """
    if not records:
        return
    _execute(_UPDATE, [now, *(_column(records, name) for name in _WRITTEN)])


# --- the worker's queue: records left pending -----------------------------------------------

_CLAIMED = (
    "id",
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
    "state",
    "reason",
    "review",
    "hold_until",
    "explanation",
    "region_id",
)
_TIMES = {"occurred_at", "ends_at", "received_at", "hold_until"}
_JSON = {"attributes", "explanation"}
_CLAIM = (
    f"SELECT {', '.join(f'{c}::text' if c in _TIMES | _JSON else c for c in _CLAIMED)} "
    f"FROM {TABLE} WHERE state = ANY(%s::text[]) {{batch}}{{partition}}"
    "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"
)
PARTITION_OF = "abs(hashtext(subject) %% %s) = %s "
"""A record's partition: by member id, so one citizen's records meet in one partition."""


def _parsed(column: str, value):
    if value is None:
        return None
    if column in _TIMES:
        return datetime.fromisoformat(value)
    if column in _JSON:
        return _decode(value)
    return value


def records_claim(
    *, batch_id, limit: int, partition: tuple[int, int] | None = None
) -> list[Record]:
    """Lock and read up to ``limit`` pending records, oldest first, skipping those another run holds."""
    # Times and JSON read as text and parsed here: Django's time-zone-aware loader is Python code
    # called per value, ``datetime.fromisoformat`` is C.
    params: list = [pg_array(PENDING_STATES)] + ([str(batch_id)] if batch_id is not None else [])
    params += [partition[1], partition[0]] if partition else []
    sql = _CLAIM.format(
        batch="AND batch_id = %s " if batch_id is not None else "",
        partition="AND " + PARTITION_OF if partition else "",
    )
    rows = [
        tuple(_parsed(c, v) for c, v in zip(_CLAIMED, row, strict=True))
        for row in _execute(sql, [*params, limit])
    ]
    return [Record(**dict(zip(_CLAIMED, row, strict=True))) for row in rows]


def records_lock(ids: list[int]) -> list[Record]:
    """Lock and read these stored records, whatever their state (a correction decides one again)."""
    rows = (
        ActionRecord.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("id")
        .values_list(*_CLAIMED)
    )
    return [Record(**dict(zip(_CLAIMED, row, strict=True))) for row in rows]


PARTITION_LOCK = 0x45415243  # advisory lock class of the worker's partitions ("EARC")


def partition_lock(p: int) -> bool:
    return _execute("SELECT pg_try_advisory_lock(%s, %s)", [PARTITION_LOCK, p])[0][0]


def partition_unlock(p: int) -> None:
    _execute("SELECT pg_advisory_unlock(%s, %s)", [PARTITION_LOCK, p])


def partition_pending(p: int, n: int) -> bool:
    return _execute(
        f"SELECT EXISTS (SELECT 1 FROM {TABLE} WHERE state = ANY(%s::text[]) AND {PARTITION_OF})",
        [pg_array(PENDING_STATES), n, p],
    )[0][0]


WORKER_TRANSACTION = (
    "SET LOCAL synchronous_commit = off; "
    "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL enable_bitmapscan = off; "
    "SET LOCAL enable_seqscan = off; SET LOCAL max_parallel_workers_per_gather = 0"
)
"""How a worker transaction runs.

Asynchronous commit: a lost commit leaves its records pending, to be done again; partners' intake
stays durable, so an accepted event is never lost. Index walks only: the claim of up to a chunk
of pending records, during a burst, was planned as a scan of every pending record.
"""


def worker_transaction_setup() -> None:
    _execute(WORKER_TRANSACTION, [])


def batch_run_count(*, batch_id, now: datetime) -> None:
    Batch.objects.filter(pk=batch_id).update(pipeline_runs=F("pipeline_runs") + 1, last_run_at=now)


def batch_counts_add(
    *,
    batch: Batch,
    received: int,
    accepted: int,
    duplicates: int,
    rejected: int,
    rejections: list[dict],
    kept_rejections: int,
) -> None:
    """A batch's intake counters, and the first rejections kept for the partner to read."""
    changes = {
        "received": F("received") + received,
        "accepted": F("accepted") + accepted,
        "duplicates": F("duplicates") + duplicates,
        "rejected": F("rejected") + rejected,
    }
    if rejections and len(batch.rejections) < kept_rejections:
        batch.rejections = (batch.rejections + rejections)[:kept_rejections]
        changes["rejections"] = batch.rejections
    Batch.objects.filter(pk=batch.pk).update(**changes)


# --- periodic work --------------------------------------------------------------------------


def funding(now: datetime) -> list[BudgetState]:
    """The sponsors' budgets in force, with their ledger balances (read without a lock)."""
    return funding_in_force(now)


_FUNDED = (*_CLAIMED, "account_id", "points", "corrections")


def awaiting_funding(limit: int) -> list[Record]:
    """Locked credited records whose points wait for a budget, oldest first."""
    rows = (
        ActionRecord.objects.select_for_update(skip_locked=True)
        .filter(
            state=ActionState.CREDITED,
            points_settled=False,
            points_available_at__isnull=True,
            points__gt=0,
        )
        .order_by("id")
        .values_list(*_FUNDED)[:limit]
    )
    return [Record(**dict(zip(_FUNDED, row, strict=True))) for row in rows]


def funded(records: list[Record], now: datetime) -> None:
    bulk_set(
        [
            ActionRecord(
                pk=r.id,
                budget_id=r.budget_id,
                points_settled=r.points_settled,
                points_available_at=r.points_available_at,
                explanation=r.explanation,
                updated_at=now,
            )
            for r in records
        ],
        ["budget_id", "points_settled", "points_available_at", "explanation", "updated_at"],
    )


def settling_due(limit: int) -> list[tuple[int, int, int | None]]:
    """Locked records whose points finished settling: ``(id, account id, points)``."""
    return list(
        ActionRecord.objects.select_for_update(skip_locked=True)
        .filter(points_settled=False, points_available_at__lte=timezone.now())
        .order_by("id")
        .values_list("id", "account_id", "points")[:limit]
    )


def settled(ids: list[int]) -> None:
    ActionRecord.objects.filter(pk__any=set(ids)).update(points_settled=True)


def unlinked_expire(now: datetime) -> int:
    return ActionRecord.objects.filter(state=ActionState.UNLINKED, hold_until__lte=now).update(
        state=ActionState.EXPIRED, reason=Reason.LINK_WINDOW_PASSED, updated_at=now
    )


def unlinked_release(*, partner_id: int, subject: str, now: datetime) -> tuple[list[str], int]:
    held = ActionRecord.objects.filter(
        partner_id=partner_id, subject=subject, state=ActionState.UNLINKED, hold_until__gt=now
    )
    batch_ids = sorted({str(b) for b in held.values_list("batch_id", flat=True)})
    return batch_ids, held.update(state=ActionState.QUANTIFIED, updated_at=now)


def unlinked_since_linked(now: datetime) -> list[str]:
    """Held records whose member id has been linked since: back to verification.

    A link releases the records held when it is made; a record a partner sent while that link
    was being made can miss the release. The sweeper catches it here. Returns their batches.
    """
    held = ActionRecord.objects.filter(
        state=ActionState.UNLINKED, reason=Reason.NOT_LINKED, hold_until__gt=now
    ).filter(
        Exists(
            IdentityLink.objects.filter(
                partner_id=OuterRef("partner_id"),
                subject=OuterRef("subject"),
                revoked_at__isnull=True,
            )
        )
    )
    batch_ids = sorted({str(b) for b in held.values_list("batch_id", flat=True)})
    if batch_ids:
        held.update(state=ActionState.QUANTIFIED, updated_at=now)
    return batch_ids


def batches_with_pending(*, updated_before: datetime, max_runs: int, limit: int) -> list[str]:
    return [
        str(b)
        for b in ActionRecord.objects.filter(
            state__in=PENDING_STATES,
            updated_at__lt=updated_before,
            batch__pipeline_runs__lt=max_runs,
        )
        .values_list("batch_id", flat=True)
        .distinct()[:limit]
    ]
