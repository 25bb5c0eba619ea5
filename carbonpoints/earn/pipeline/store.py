"""Every statement of the earn pipeline: what the rules need, read up front, and what they
decided, written set-based.

PostgreSQL gets hand-written statements over ``unnest`` of one array literal per column: a
batch's thousands of values as a few parameters, looked up by index (the measurements are in
docs/performance-ingest.md). The embedded default (SQLite, ``bin/serve``) runs the same
operations through the ORM.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

import msgspec
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from accounts.models import CarbonAccount, IdentityLink
from accounts.selectors import LinkedMember, linked_members
from carbonpoints.bulk import bulk_set
from carbonpoints.lookups import pg_array
from carbonpoints.methodologies.selectors import Catalogue

from ..models import COUNTED_STATES, PENDING_STATES, ActionRecord, ActionState, Batch, CapUsage, CitizenCarry
from .rules import Record, UsageKey

TABLE = ActionRecord._meta.db_table
MAX_DURATION_S = 7 * 86400
"""The longest action a partner may report (``attributes.duration_s``)."""


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


def _execute(sql: str, params: Iterable | Mapping) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


# --- context read up front ------------------------------------------------------------------

def links(records: Iterable[Record]) -> dict[tuple[int, str], LinkedMember]:
    """The active links of the records' member ids, in one query."""
    return linked_members(members={(r.partner_id, r.subject) for r in records})


def citizens_lock(account_ids: Iterable[int]) -> None:
    """Serialise verification and crediting per citizen, so caps and carries hold across batches.

    Rows are locked in primary-key order, the one global order every crediting takes (then the
    ledger's accounts, also in key order), so concurrent batches that share citizens queue and
    never deadlock.
    """
    ids = sorted(set(account_ids))
    if not ids or not _postgresql():
        return  # SQLite: the write transaction itself is the lock (transaction mode IMMEDIATE)
    _execute(f"SELECT id FROM {CarbonAccount._meta.db_table} WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE",
             [pg_array(ids)])


def known_external_ids(*, partner_id: int, external_ids: list[str]) -> set[str]:
    """Which of these external ids the partner sent before (by its unique key)."""
    if not external_ids:
        return set()
    return set(ActionRecord.objects.filter(partner_id=partner_id, external_id__any=set(external_ids))
               .values_list("external_id", flat=True))


def usage(windows: set[tuple[int, str, date, date]]) -> dict[UsageKey, int]:
    """Cap usage counted so far on the days of ``windows``, by citizen, action type and day."""
    if not windows:
        return {}
    if _postgresql():
        keys = list(windows)
        rows = _execute(
            f"SELECT u.account_id, u.action, u.day, u.counted_micro FROM {CapUsage._meta.db_table} u "
            "JOIN unnest(%s::bigint[], %s::text[], %s::date[], %s::date[]) AS k(account_id, action, first, last) "
            "ON u.account_id = k.account_id AND u.action = k.action AND u.day >= k.first AND u.day < k.last",
            [pg_array(k[0] for k in keys), pg_array(k[1] for k in keys),
             pg_array(k[2].isoformat() for k in keys), pg_array(k[3].isoformat() for k in keys)],
        )
        return {(account_id, action, day): micro for account_id, action, day, micro in set(rows)}
    match = Q()
    for account_id, action, first, last in windows:
        match |= Q(account_id=account_id, action=action, day__gte=first, day__lt=last)
    return {(a, action, day): micro for a, action, day, micro in
            CapUsage.objects.filter(match).values_list("account_id", "action", "day", "counted_micro")}


def usage_add(added: Mapping[UsageKey, int]) -> None:
    """Add what a batch counted to the citizens' cap usage: one upsert."""
    if not added:
        return
    keys = list(added)
    table = CapUsage._meta.db_table
    if _postgresql():
        _execute(
            f"INSERT INTO {table} AS u (account_id, action, day, counted_micro) "
            "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::date[], %s::bigint[]) "
            "ON CONFLICT (account_id, action, day) DO UPDATE SET counted_micro = u.counted_micro + EXCLUDED.counted_micro",
            [pg_array(k[0] for k in keys), pg_array(k[1] for k in keys), pg_array(k[2].isoformat() for k in keys),
             pg_array(added.values())],
        )
        return
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(keys))
    _execute(
        f"INSERT INTO {table} (account_id, action, day, counted_micro) VALUES {rows} "
        "ON CONFLICT (account_id, action, day) DO UPDATE SET counted_micro = counted_micro + excluded.counted_micro",
        [value for key in keys for value in (key[0], key[1], key[2].isoformat(), added[key])],
    )


def overlapping_trips(candidates: list[Record], tolerance: timedelta) -> dict[int, tuple[int, str]]:
    """For each candidate (by position), another partner's counted trip of the same citizen and
    mode that overlaps it: ``(partner id, external id)``.

    On PostgreSQL each candidate looks only at its own window of the citizen's time index (no trip
    lasts longer than ``MAX_DURATION_S``), so the cost does not grow with the citizen's history.
    """
    if not candidates:
        return {}
    if _postgresql():
        rows = _execute(
            f"SELECT DISTINCT ON (k.n) k.n, a.partner_id, a.external_id "
            f"FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::timestamptz[], %s::timestamptz[]) "
            f"     WITH ORDINALITY AS k(account_id, action, partner_id, starts, ends, n) "
            f"JOIN {TABLE} a ON a.account_id = k.account_id AND a.action = k.action "
            f"     AND a.occurred_at >= k.starts - %s AND a.occurred_at <= k.ends AND a.ends_at >= k.starts "
            f"WHERE a.account_id IS NOT NULL AND a.state = ANY(%s::text[]) AND a.partner_id <> k.partner_id "
            f"ORDER BY k.n, a.occurred_at, a.id",
            [pg_array(r.account_id for r in candidates), pg_array(r.action for r in candidates),
             pg_array(r.partner_id for r in candidates), pg_array(r.occurred_at - tolerance for r in candidates),
             pg_array(r.ends_at + tolerance for r in candidates), timedelta(seconds=MAX_DURATION_S),
             pg_array(COUNTED_STATES)],
        )
        return {n - 1: (partner_id, external_id) for n, partner_id, external_id in rows}
    others = ActionRecord.objects.filter(
        account_id__in={r.account_id for r in candidates}, action__in={r.action for r in candidates},
        state__in=COUNTED_STATES,
        occurred_at__lte=max(r.ends_at for r in candidates) + tolerance,
        ends_at__gte=min(r.occurred_at for r in candidates) - tolerance,
    ).order_by("occurred_at", "id").values_list("account_id", "action", "occurred_at", "ends_at", "partner_id",
                                                 "external_id")
    by_trip = defaultdict(list)
    for other in others:
        by_trip[other[:2]].append(other[2:])
    found = {}
    for n, record in enumerate(candidates):
        for starts, ends, partner_id, external_id in by_trip.get((record.account_id, record.action), ()):
            if (partner_id != record.partner_id and record.occurred_at <= ends + tolerance
                    and starts <= record.ends_at + tolerance):
                found[n] = (partner_id, external_id)
                break
    return found


def carries(owners: Iterable[int]) -> dict[int, int]:
    """The citizens' carried remainders (their citizens are locked by the caller)."""
    owners = set(owners)
    if not owners:
        return {}
    return dict(CitizenCarry.objects.filter(account_id__any=owners).values_list("account_id", "remainder_g"))


def carries_save(changed: Mapping[int, int]) -> None:
    if not changed:
        return
    if _postgresql():  # one upsert of two arrays: no model instance per citizen
        _execute(
            f"INSERT INTO {CitizenCarry._meta.db_table} (account_id, remainder_g) "
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[]) "
            "ON CONFLICT (account_id) DO UPDATE SET remainder_g = EXCLUDED.remainder_g",
            [pg_array(changed), pg_array(changed.values())],
        )
        return
    CitizenCarry.objects.bulk_create([CitizenCarry(account_id=o, remainder_g=g) for o, g in changed.items()],
                                     update_conflicts=True, unique_fields=["account"], update_fields=["remainder_g"])


def catalogue() -> Catalogue:
    return Catalogue()


# --- records: inserted once, in their final state ---------------------------------------------

_encode = msgspec.json.Encoder(decimal_format="string").encode
_INSERTED = {  # column: array type (None: one value for the whole batch)
    "partner_id": None, "batch_id": None, "received_at": None, "updated_at": None, "review": None,
    "external_id": "text", "subject": "text", "action": "text", "quantity": "numeric", "unit": "text",
    "occurred_at": "timestamptz", "ends_at": "timestamptz", "attributes": "jsonb", "raw": "text",
    "state": "text", "reason": "text", "capped": "boolean", "account_id": "bigint", "methodology_id": "bigint",
    "conversion_rule_id": "bigint", "reduction_g": "bigint", "counted_quantity": "numeric",
    "credited_g": "bigint", "points": "bigint", "points_available_at": "timestamptz",
    "points_settled": "boolean", "hold_until": "timestamptz", "explanation": "jsonb", "credited_at": "timestamptz",
}
_ARRAYS = [name for name, kind in _INSERTED.items() if kind]
_INSERT = (
    f"INSERT INTO {TABLE} ({', '.join(_INSERTED)}) "
    f"SELECT %s, %s, %s, %s, '', {', '.join('e.' + name for name in _ARRAYS)} "
    f"FROM unnest({', '.join(f'%s::{_INSERTED[name]}[]' for name in _ARRAYS)}) AS e({', '.join(_ARRAYS)}) "
    "ON CONFLICT (partner_id, external_id) DO NOTHING RETURNING id, external_id"
)


def _column(records: list[Record], name: str) -> str:
    if name == "attributes":
        return pg_array(r.attributes_json for r in records)
    if name == "explanation":
        return pg_array(_encode(r.explanation).decode() for r in records)
    if name in ("quantity", "counted_quantity"):
        return pg_array(None if getattr(r, name) is None else format(getattr(r, name), "f") for r in records)
    return pg_array(getattr(r, name) for r in records)


def records_insert(records: list[Record], *, batch_id, partner_id: int, now: datetime) -> dict[str, int]:
    """Insert new records in their final state; the ids of those inserted, by external id.

    A record whose (partner, external id) a concurrent request inserted first is not inserted
    (``ON CONFLICT DO NOTHING``) and is missing from the answer.
    """
    if not records:
        return {}
    if _postgresql():
        received_at = records[0].received_at
        rows = _execute(_INSERT, [partner_id, str(batch_id), received_at, now,
                                  *(_column(records, name) for name in _ARRAYS)])
        return {external_id: pk for pk, external_id in rows}
    fields = [name for name in _INSERTED if name not in ("partner_id", "batch_id", "review", "updated_at",
                                                          "attributes")]
    created = ActionRecord.objects.bulk_create([
        ActionRecord(partner_id=partner_id, batch_id=batch_id, updated_at=now, attributes=r.attributes,
                     **{name: getattr(r, name) for name in fields})
        for r in records
    ], batch_size=500)
    return {record.external_id: record.pk for record in created}


_WRITTEN = {
    "id": "bigint", "state": "text", "reason": "text", "capped": "boolean", "account_id": "bigint",
    "methodology_id": "bigint", "conversion_rule_id": "bigint", "reduction_g": "bigint",
    "counted_quantity": "numeric", "credited_g": "bigint", "points": "bigint", "points_available_at": "timestamptz",
    "points_settled": "boolean", "hold_until": "timestamptz", "explanation": "jsonb", "credited_at": "timestamptz",
}
_UPDATE = (
    f"UPDATE {TABLE} a SET "
    + ", ".join(f"{name} = o.{name}" for name in _WRITTEN if name != "id") + ", updated_at = %s "
    + "FROM unnest(" + ", ".join(f"%s::{t}[]" for t in _WRITTEN.values()) + ") "
    + f"AS o({', '.join(_WRITTEN)}) WHERE a.id = o.id"
)


def records_update(records: list[Record], now: datetime) -> None:
    """Write what the rules decided of stored records back, in one statement.

    PostgreSQL joins the rows to ``unnest`` of one array per column, so the planner looks each
    record up by its primary key.
    """
    if not records:
        return
    if _postgresql():
        _execute(_UPDATE, [now, *(_column(records, name) for name in _WRITTEN)])
        return
    bulk_set([ActionRecord(updated_at=now, **{name: getattr(r, name) for name in _WRITTEN}) for r in records],
             [*list(_WRITTEN)[1:], "updated_at"])


# --- the worker's queue: records left pending -----------------------------------------------

_CLAIMED = ("id", "partner_id", "batch_id", "external_id", "subject", "action", "quantity", "unit",
            "occurred_at", "ends_at", "received_at", "attributes", "state", "reason", "review", "hold_until",
            "explanation")
_TIMES = {"occurred_at", "ends_at", "received_at", "hold_until"}
_JSON = {"attributes", "explanation"}
_CLAIM = (
    f"SELECT {', '.join(f'{c}::text' if c in _TIMES | _JSON else c for c in _CLAIMED)} "
    f"FROM {TABLE} WHERE state = ANY(%s::text[]) {{batch}}{{partition}}"
    "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"
)
PARTITION_OF = "abs(hashtext(subject) %% %s) = %s "
"""A record's partition: by member id, so one citizen's records meet in one partition."""
_decode = msgspec.json.Decoder().decode


def _parsed(column: str, value):
    if value is None:
        return None
    if column in _TIMES:
        return datetime.fromisoformat(value)
    if column in _JSON:
        return _decode(value)
    return value


def records_claim(*, batch_id, limit: int, partition: tuple[int, int] | None = None) -> list[Record]:
    """Lock and read up to ``limit`` pending records, oldest first, skipping those another run holds."""
    if _postgresql():
        # Times and JSON read as text and parsed here: Django's time-zone-aware loader is Python
        # code called per value, ``datetime.fromisoformat`` is C.
        params: list = [pg_array(PENDING_STATES)] + ([str(batch_id)] if batch_id is not None else [])
        params += [partition[1], partition[0]] if partition else []
        sql = _CLAIM.format(batch="AND batch_id = %s " if batch_id is not None else "",
                            partition="AND " + PARTITION_OF if partition else "")
        rows = [tuple(_parsed(c, v) for c, v in zip(_CLAIMED, row, strict=True))
                for row in _execute(sql, [*params, limit])]
    else:
        claimed = ActionRecord.objects.select_for_update(skip_locked=True).filter(state__in=PENDING_STATES)
        if batch_id is not None:
            claimed = claimed.filter(batch_id=batch_id)
        rows = list(claimed.order_by("id").values_list(*_CLAIMED)[:limit])
    return [Record(**dict(zip(_CLAIMED, row, strict=True))) for row in rows]


PARTITION_LOCK = 0x45415243  # advisory lock class of the worker's partitions ("EARC")


def partition_lock(p: int) -> bool:
    return _execute("SELECT pg_try_advisory_lock(%s, %s)", [PARTITION_LOCK, p])[0][0]


def partition_unlock(p: int) -> None:
    _execute("SELECT pg_advisory_unlock(%s, %s)", [PARTITION_LOCK, p])


def partition_pending(p: int, n: int) -> bool:
    return _execute(f"SELECT EXISTS (SELECT 1 FROM {TABLE} WHERE state = ANY(%s::text[]) AND {PARTITION_OF})",
                    [pg_array(PENDING_STATES), n, p])[0][0]


KEYED_LOOKUPS = """
SET LOCAL synchronous_commit = off;
SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL enable_bitmapscan = off;
SET LOCAL enable_seqscan = off; SET LOCAL max_parallel_workers_per_gather = 0
"""
"""How a worker transaction runs on PostgreSQL.

Asynchronous commit is safe to lose on a crash: the records' states and the ledger commit (or
vanish) together, and a lost chunk is simply pending again; partners' intake stays durable.

Every statement looks rows up by a key (a record's id, a citizen's time window, an account's
unique key), thousands at a time. During a burst the statistics lag behind, and with a
5,000-element array the planner chose hash joins over parallel scans of the whole action table:
a cost that grows with the table. Here the planner may only walk indexes.
"""


def worker_transaction_setup() -> None:
    if _postgresql():
        _execute(KEYED_LOOKUPS, [])


def batch_run_count(*, batch_id, now: datetime) -> None:
    Batch.objects.filter(pk=batch_id).update(pipeline_runs=F("pipeline_runs") + 1, last_run_at=now)


def batch_counts_add(*, batch: Batch, received: int, accepted: int, duplicates: int, rejected: int,
                     rejections: list[dict], kept_rejections: int) -> None:
    """A batch's intake counters, and the first rejections kept for the partner to read."""
    changes = {"received": F("received") + received, "accepted": F("accepted") + accepted,
               "duplicates": F("duplicates") + duplicates, "rejected": F("rejected") + rejected}
    if rejections and len(batch.rejections) < kept_rejections:
        batch.rejections = (batch.rejections + rejections)[:kept_rejections]
        changes["rejections"] = batch.rejections
    Batch.objects.filter(pk=batch.pk).update(**changes)


# --- periodic work --------------------------------------------------------------------------

def settling_due(limit: int) -> list[tuple[int, int, int]]:
    """Locked records whose points finished settling: ``(id, account id, points)``."""
    return list(ActionRecord.objects.select_for_update(skip_locked=True)
                .filter(points_settled=False, points_available_at__lte=timezone.now()).order_by("id")
                .values_list("id", "account_id", "points")[:limit])


def settled(ids: list[int]) -> None:
    ActionRecord.objects.filter(pk__any=set(ids)).update(points_settled=True)


def unlinked_expire(now: datetime) -> int:
    return ActionRecord.objects.filter(state=ActionState.UNLINKED, hold_until__lte=now).update(
        state=ActionState.EXPIRED, reason="link_window_passed", updated_at=now
    )


def unlinked_release(*, partner_id: int, subject: str, now: datetime) -> tuple[list[str], int]:
    held = ActionRecord.objects.filter(partner_id=partner_id, subject=subject, state=ActionState.UNLINKED,
                                       hold_until__gt=now)
    batch_ids = sorted({str(b) for b in held.values_list("batch_id", flat=True)})
    return batch_ids, held.update(state=ActionState.QUANTIFIED, updated_at=now)


def unlinked_since_linked(now: datetime) -> list[str]:
    """Held records whose member id has been linked since: back to verification.

    A link releases the records held when it is made; a record a partner sent while that link
    was being made can miss the release. The sweeper catches it here. Returns their batches.
    """
    held = ActionRecord.objects.filter(state=ActionState.UNLINKED, reason="not_linked", hold_until__gt=now).filter(
        Exists(IdentityLink.objects.filter(partner_id=OuterRef("partner_id"), subject=OuterRef("subject"),
                                           revoked_at__isnull=True)))
    batch_ids = sorted({str(b) for b in held.values_list("batch_id", flat=True)})
    if batch_ids:
        held.update(state=ActionState.QUANTIFIED, updated_at=now)
    return batch_ids


def batches_with_pending(*, updated_before: datetime, max_runs: int, limit: int) -> list[str]:
    return [str(b) for b in ActionRecord.objects.filter(
        state__in=PENDING_STATES, updated_at__lt=updated_before, batch__pipeline_runs__lt=max_runs,
    ).values_list("batch_id", flat=True).distinct()[:limit]]
