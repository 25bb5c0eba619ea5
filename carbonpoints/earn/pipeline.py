"""The pipeline: quantify → verify → credit, a chunk of records at a time, then settle and expire.

A run claims a chunk of pending records (``FOR UPDATE SKIP LOCKED``, so runs never wait on
each other), takes each as far as it goes in memory, and writes the chunk back in one database
transaction: the records with one ``UPDATE … FROM unnest(…)``, the citizens' carried remainders
in one upsert, and the ledger in one balanced transaction per chunk. A crash leaves records in a
state a later run resumes from; a chunk commits whole.

Records are plain rows here (``Work``), not model instances: a run handles thousands at a time,
and Django's per-instance machinery cost more than the work itself (docs/performance.md).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

import msgspec
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from accounts import ledger_accounts as citizen_ledger
from accounts.models import CarbonAccount
from carbonpoints.bulk import bulk_set
from carbonpoints.ledger.services import (
    Leg,
    TransactionSpec,
    ledger_accounts_get_or_create,
    transaction_post_many,
)
from carbonpoints.lookups import pg_array
from carbonpoints.methodologies.quantify import points_for, reduction_g
from carbonpoints.methodologies.selectors import Catalogue

from . import ledger_accounts as earn_ledger
from .intake import MAX_DURATION_S
from .models import COUNTED_STATES, PENDING_STATES, ActionRecord, ActionState, Batch, CitizenCarry
from .selectors import LinkedMember, linked_members
from .verification import overlaps, plausibility_refusal

CHUNK = 5000
"""Records a run takes at a time by default (``EARN_PIPELINE_CHUNK``)."""

READ = ("id", "partner_id", "subject", "action", "quantity", "unit", "occurred_at",
        "ends_at", "attributes", "received_at", "state", "reason", "capped", "review", "account_id",
        "methodology_id", "conversion_rule_id", "reduction_g", "counted_quantity", "credited_g", "points",
        "points_available_at", "points_settled", "hold_until", "explanation", "credited_at")


class Work:
    """One action record as the pipeline reads and writes it: its columns as plain attributes."""

    __slots__ = (*READ, "methodology", "updated_at")

    def __init__(self, row: tuple, catalogue: Catalogue) -> None:
        for name, value in zip(READ, row, strict=True):
            setattr(self, name, value)
        self.methodology = catalogue.by_id.get(self.methodology_id) if self.methodology_id else None

    @property
    def pk(self) -> int:
        return self.id


def _rule(record: Work, code: str, **figures) -> None:
    record.explanation = {**record.explanation, "rules": [*record.explanation.get("rules", ()), {"code": code, **figures}]}


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


# --- quantify -----------------------------------------------------------------------------

def _quantify(records: list[Work], catalogue: Catalogue) -> None:
    """Received → quantified (or rejected): the methodology in force at occurred_at, its grams.

    The explanation keeps only what is particular to the record (rules and the conversion); the
    methodology's published factors are read from its version when the explanation is shown.
    """
    for record in records:
        methodology = catalogue.methodology_at(record.action, record.occurred_at)
        if methodology is None:
            record.state, record.reason = ActionState.REJECTED, "no_methodology"
            _rule(record, "no_methodology")
            continue
        if methodology.unit != record.unit:
            record.state, record.reason = ActionState.REJECTED, "unit_mismatch"
            _rule(record, "unit_mismatch", expected=methodology.unit)
            continue
        record.methodology, record.methodology_id = methodology, methodology.pk
        record.reduction_g = reduction_g(
            quantity=record.quantity, baseline_g_per_unit=methodology.baseline_g_per_unit,
            project_g_per_unit=methodology.project_g_per_unit,
        )
        if record.reduction_g < 0:  # a project emitting more than its baseline earns nothing
            record.state, record.reason = ActionState.REJECTED, "no_reduction"
            _rule(record, "no_reduction")
            continue
        record.state = ActionState.QUANTIFIED


# --- verify -------------------------------------------------------------------------------

def _lock_citizens(account_ids) -> None:
    """Serialise verification and crediting per citizen, so caps and carries hold across runs."""
    if not account_ids:
        return
    list(CarbonAccount.objects.select_for_update().filter(pk__any=set(account_ids)).order_by("pk")
         .values_list("pk", flat=True))


def _overlapping_trips(checked: list[Work], tolerance: timedelta) -> dict[int, tuple[int, str]]:
    """For each record, another partner's counted trip of the same citizen and mode that overlaps it.

    On PostgreSQL each record looks only at its own window of the citizen's time index (no trip
    lasts longer than ``MAX_DURATION_S``), so the cost does not grow with the citizen's history.
    """
    if connection.vendor == "postgresql":
        longest = timedelta(seconds=MAX_DURATION_S)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT ON (k.n) k.n, a.partner_id, a.external_id "
                f"FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::timestamptz[], %s::timestamptz[]) "
                f"     WITH ORDINALITY AS k(account_id, action, partner_id, starts, ends, n) "
                f"JOIN {ActionRecord._meta.db_table} a ON a.account_id = k.account_id AND a.action = k.action "
                f"     AND a.occurred_at >= k.starts - %s AND a.occurred_at <= k.ends AND a.ends_at >= k.starts "
                f"WHERE a.account_id IS NOT NULL AND a.state = ANY(%s::text[]) AND a.partner_id <> k.partner_id "
                f"ORDER BY k.n, a.occurred_at, a.id",
                [pg_array(r.account_id for r in checked), pg_array(r.action for r in checked),
                 pg_array(r.partner_id for r in checked), pg_array(r.occurred_at - tolerance for r in checked),
                 pg_array(r.ends_at + tolerance for r in checked), longest, pg_array(COUNTED_STATES)],
            )
            return {checked[n - 1].id: (partner_id, external_id) for n, partner_id, external_id in cursor.fetchall()}
    others = ActionRecord.objects.filter(
        account_id__in={r.account_id for r in checked}, action__in={r.action for r in checked},
        state__in=COUNTED_STATES,
        occurred_at__lte=max(r.ends_at for r in checked) + tolerance,
        ends_at__gte=min(r.occurred_at for r in checked) - tolerance,
    ).order_by("occurred_at", "id").values_list("account_id", "action", "occurred_at", "ends_at", "partner_id",
                                                 "external_id")
    by_key = defaultdict(list)
    for other in others:
        by_key[other[:2]].append(other)
    found = {}
    for record in checked:
        for _account, _action, starts, ends, partner_id, external_id in by_key.get((record.account_id, record.action), ()):
            if partner_id != record.partner_id and overlaps(record.occurred_at, record.ends_at, starts, ends, tolerance):
                found[record.id] = (partner_id, external_id)
                break
    return found


def _flag_duplicate_trips(candidates: list[Work]) -> None:
    """Same citizen, same mode, overlapping time, another partner: flagged for review."""
    checked = [r for r in candidates if r.review != ActionRecord.Review.APPROVED]
    if not checked:
        return
    overlapping = _overlapping_trips(checked, timedelta(seconds=settings.EARN_DUPLICATE_TOLERANCE_S))
    for record in checked:
        if record.id in overlapping:
            partner_id, external_id = overlapping[record.id]
            record.state, record.reason = ActionState.FLAGGED, "possible_duplicate_trip"
            _rule(record, "possible_duplicate_trip", other_partner_id=partner_id, other_external_id=external_id)


def _period(record: Work, period: str, tz) -> tuple[tuple, datetime, datetime]:
    """The local day or month of a record: its key and its bounds in time."""
    local = record.occurred_at.astimezone(tz)
    if period == "day":
        key = local.date()
        start, end = key, key + timedelta(days=1)
    else:
        key = (local.year, local.month)
        start = local.date().replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    return key, datetime.combine(start, time.min, tzinfo=tz), datetime.combine(end, time.min, tzinfo=tz)


def _usage(candidates: list[Work], period: str) -> dict:
    """What each citizen has counted so far per action type and local day (or month) of the candidates."""
    tz = timezone.get_current_timezone()
    bounds = {}
    for record in candidates:
        key, start, end = _period(record, period, tz)
        bounds[(record.account_id, record.action, key)] = (start, end)
    usage = defaultdict(Decimal)
    if connection.vendor == "postgresql":  # only the periods asked about, by the citizen's time index
        keys = list(bounds)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT k.n, SUM(a.counted_quantity) "
                f"FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::timestamptz[]) "
                f"     WITH ORDINALITY AS k(account_id, action, starts, ends, n) "
                f"JOIN {ActionRecord._meta.db_table} a ON a.account_id = k.account_id AND a.action = k.action "
                f"     AND a.occurred_at >= k.starts AND a.occurred_at < k.ends "
                f"WHERE a.account_id IS NOT NULL AND a.state = ANY(%s::text[]) GROUP BY k.n",
                [pg_array(k[0] for k in keys), pg_array(k[1] for k in keys), pg_array(bounds[k][0] for k in keys),
                 pg_array(bounds[k][1] for k in keys), pg_array(COUNTED_STATES)],
            )
            for n, total in cursor.fetchall():
                usage[keys[n - 1]] = total or Decimal(0)
        return usage
    trunc = TruncDate if period == "day" else TruncMonth
    rows = (
        ActionRecord.objects.filter(
            account_id__in={r.account_id for r in candidates}, action__in={r.action for r in candidates},
            state__in=COUNTED_STATES,
            occurred_at__gte=min(start for start, _ in bounds.values()),
            occurred_at__lt=max(end for _, end in bounds.values()),
        )
        .annotate(period=trunc("occurred_at", tzinfo=tz))
        .values_list("account_id", "action", "period").annotate(total=Sum("counted_quantity"))
    )
    for account_id, action, start, total in rows:
        key = (account_id, action, start if period == "day" else (start.year, start.month))
        usage[key] += total or Decimal(0)
    return usage


def _apply_caps(candidates: list[Work]) -> None:
    """Per-citizen daily and monthly caps per action type: the excess is recorded, not counted."""
    if not candidates:
        return
    capped_daily = [r for r in candidates if r.methodology.daily_cap is not None]
    capped_monthly = [r for r in candidates if r.methodology.monthly_cap is not None]
    tz = timezone.get_current_timezone()
    daily = _usage(capped_daily, "day") if capped_daily else defaultdict(Decimal)
    monthly = _usage(capped_monthly, "month") if capped_monthly else defaultdict(Decimal)
    for record in sorted(candidates, key=lambda r: (r.occurred_at, r.id)):
        methodology = record.methodology
        counted = record.quantity
        if methodology.daily_cap is not None or methodology.monthly_cap is not None:
            local = record.occurred_at.astimezone(tz)
            day_key = (record.account_id, record.action, local.date())
            month_key = (record.account_id, record.action, (local.year, local.month))
            limits = []
            if methodology.daily_cap is not None:
                limits.append(("daily_cap", methodology.daily_cap, daily[day_key]))
            if methodology.monthly_cap is not None:
                limits.append(("monthly_cap", methodology.monthly_cap, monthly[month_key]))
            for code, cap, used in limits:
                room = max(cap - used, Decimal(0))
                if counted > room:
                    counted = room
                    record.capped = True
                    _rule(record, code, cap=_dec(cap), used_before=_dec(used), unit=methodology.unit)
            daily[day_key] += counted
            monthly[month_key] += counted
        record.counted_quantity = counted
        if counted == record.quantity:
            record.credited_g = record.reduction_g
        else:
            record.credited_g = reduction_g(
                quantity=counted, baseline_g_per_unit=methodology.baseline_g_per_unit,
                project_g_per_unit=methodology.project_g_per_unit,
            )
            _rule(record, "partly_counted", counted_quantity=_dec(counted), quantity=_dec(record.quantity),
                  credited_g=record.credited_g)
        record.state, record.reason = ActionState.VERIFIED, ("capped" if record.capped else "")


@dataclass(frozen=True)
class _VerifyContext:
    now: datetime
    clock_skew: timedelta
    backfill: timedelta
    hold: timedelta

    @classmethod
    def at(cls, now: datetime) -> _VerifyContext:
        return cls(
            now=now,
            clock_skew=timedelta(seconds=settings.EARN_CLOCK_SKEW_S),
            backfill=timedelta(days=settings.EARN_BACKFILL_DAYS),
            hold=timedelta(days=settings.EARN_UNLINKED_HOLD_DAYS),
        )


KEPT_ON_REVERIFY = ("approved_on_review", "held_unlinked")
"""Rules of an earlier verification that a new one keeps: the operator's decision and the hold."""


def _verify(records: list[Work], links: dict[tuple[int, str], LinkedMember], ctx: _VerifyContext) -> None:
    """Quantified → verified (maybe capped), unlinked, rejected or flagged.

    The citizens of ``links`` must be locked by the caller (caps hold across runs).
    """
    candidates = []
    for record in records:
        if record.explanation:  # verified before (a release, a review): start again from its rules
            rules = [r for r in record.explanation.get("rules", ()) if r["code"] in KEPT_ON_REVERIFY]
            record.explanation = {"rules": rules} if rules else {}
        record.capped = False
        link = links.get((record.partner_id, record.subject))
        linked = link is not None and record.action in link.actions
        record.account_id = link.account_id if linked else None
        code, figures = plausibility_refusal(
            quantity=record.quantity, occurred_at=record.occurred_at,
            received_at=record.received_at, attributes=record.attributes,
            methodology=record.methodology, clock_skew=ctx.clock_skew, backfill=ctx.backfill,
        )
        if code:
            record.state, record.reason = ActionState.REJECTED, code
            _rule(record, code, **figures)
            continue
        if not linked:
            record.hold_until = record.hold_until or record.received_at + ctx.hold
            if record.hold_until <= ctx.now:
                record.state, record.reason = ActionState.EXPIRED, "link_window_passed"
                _rule(record, "link_window_passed")
            else:
                reason = "not_linked" if link is None else "no_consent_for_action"
                record.state, record.reason = ActionState.UNLINKED, reason
                if not any(r["code"] == "held_unlinked" for r in record.explanation.get("rules", ())):
                    _rule(record, "held_unlinked", until=record.hold_until.isoformat())
            continue
        candidates.append(record)
    _flag_duplicate_trips(candidates)
    _apply_caps([r for r in candidates if r.state != ActionState.FLAGGED])


# --- credit -------------------------------------------------------------------------------

def _carries(owners: list[int]) -> dict[int, int]:
    """The citizens' carried remainders (their citizens are locked by the caller)."""
    found = dict(CitizenCarry.objects.filter(account_id__any=set(owners)).values_list("account_id", "remainder_g"))
    return {owner: found.get(owner, 0) for owner in owners}


def _carries_save(before: dict[int, int], after: dict[int, int]) -> None:
    changed = {owner: grams for owner, grams in after.items() if grams != before[owner]}
    if not changed:
        return
    if connection.vendor == "postgresql":  # one upsert of two arrays: no model instance per citizen
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {CitizenCarry._meta.db_table} (account_id, remainder_g) "
                "SELECT * FROM unnest(%s::bigint[], %s::bigint[]) "
                "ON CONFLICT (account_id) DO UPDATE SET remainder_g = EXCLUDED.remainder_g",
                [pg_array(changed), pg_array(changed.values())],
            )
        return
    CitizenCarry.objects.bulk_create([CitizenCarry(account_id=o, remainder_g=g) for o, g in changed.items()],
                                     update_conflicts=True, unique_fields=["account"], update_fields=["remainder_g"])


def _pool_key(record: Work, tz) -> tuple[str, int, str]:
    local = record.occurred_at.astimezone(tz)
    key = citizen_ledger.pool_account_key(methodology_code=record.action, vintage_year=local.year,
                                          vintage_month=local.month)
    return key["kind"], key["owner_id"], key["unit"]


def _credit(records: list[Work], catalogue: Catalogue, now: datetime) -> TransactionSpec | None:
    """Verified → credited; returns the chunk's ledger transaction (the caller posts it last).

    Points come from the grams plus the citizen's carried remainder, record by record in the
    order they happened. The ledger gets one balanced transaction per chunk: each citizen's
    grams and points (summed over the chunk's records), each pool's claim, and the three
    issuance legs they come from. Its metadata lists the actions, so every gram traces back.
    """
    if not records:
        return None
    settling = timedelta(days=settings.EARN_SETTLING_DAYS)
    tz = timezone.get_current_timezone()
    owners = sorted({r.account_id for r in records})
    carried = _carries(owners)
    carry = dict(carried)
    grams_by_owner: dict[int, int] = defaultdict(int)
    points_by_owner: dict[tuple[int, bool], int] = defaultdict(int)
    grams_by_pool: dict[tuple[str, int, str], int] = defaultdict(int)
    credited_ids = []
    for record in sorted(records, key=lambda r: (r.occurred_at, r.id)):
        rule = catalogue.rule_at(record.occurred_at) or catalogue.rule_at(now)
        if rule is None:
            raise RuntimeError("no conversion rule in force: add one in the admin")
        owner, grams = record.account_id, record.credited_g
        points, remainder = points_for(grams=grams, carried_g=carry[owner], grams_per_point=rule.grams_per_point)
        pending = settling > timedelta(0) and points > 0
        record.explanation = {**record.explanation, "conversion": {
            "grams_per_point": rule.grams_per_point, "carried_in_g": carry[owner], "carried_out_g": remainder,
            "points": points, "points_status": "pending" if pending else "available",
        }}
        carry[owner] = remainder
        record.conversion_rule_id = rule.pk
        record.points = points
        record.state, record.credited_at = ActionState.CREDITED, now
        record.points_settled = not pending
        record.points_available_at = now + settling if pending else now
        if pending:
            _rule(record, "settling_period", days=settling.days)
        if grams == 0:
            continue
        credited_ids.append(record.id)
        grams_by_owner[owner] += grams
        grams_by_pool[_pool_key(record, tz)] += grams
        if points:
            points_by_owner[(owner, pending)] += points
    _carries_save(carried, carry)
    if not credited_ids:
        return None

    reduction, available, settling_kind = citizen_ledger.REDUCTION, citizen_ledger.POINTS, citizen_ledger.POINTS_PENDING
    keys = [(reduction[0], o, reduction[1]) for o in grams_by_owner]
    keys += [((settling_kind if pending else available)[0], o, available[1]) for o, pending in points_by_owner]
    accounts = ledger_accounts_get_or_create(keys=keys + list(grams_by_pool))
    accounts |= ledger_accounts_get_or_create(keys=list(earn_ledger.SOURCES), allow_negative=True)
    total_g, total_points = sum(grams_by_owner.values()), sum(points_by_owner.values())
    legs = [Leg(accounts[earn_ledger.GRAMS_ISSUANCE], -total_g), Leg(accounts[earn_ledger.CLAIM_ISSUANCE], -total_g)]
    legs += [Leg(accounts[(reduction[0], o, reduction[1])], g) for o, g in grams_by_owner.items()]
    legs += [Leg(accounts[key], g) for key, g in grams_by_pool.items()]
    if total_points:
        legs.append(Leg(accounts[earn_ledger.POINTS_ISSUANCE], -total_points))
        legs += [Leg(accounts[((settling_kind if pending else available)[0], o, available[1])], p)
                 for (o, pending), p in points_by_owner.items()]
    credited_ids.sort()
    digest = hashlib.sha256(",".join(map(str, credited_ids)).encode()).hexdigest()[:24]
    return TransactionSpec(
        kind=earn_ledger.CREDIT_KIND, legs=legs,
        idempotency_key=f"earn:credit:{credited_ids[0]}-{credited_ids[-1]}:{digest}",
        reference=f"actions:{credited_ids[0]}-{credited_ids[-1]}",
        memo=f"{len(credited_ids)} actions credited",
        metadata={"action_ids": credited_ids},
    )


# --- reading and writing a chunk ----------------------------------------------------------

_json = msgspec.json.Encoder(decimal_format="string")


_decode_json = msgspec.json.Decoder().decode
_TIMES = {"occurred_at", "ends_at", "received_at", "points_available_at", "hold_until", "credited_at"}
_JSON = {"attributes", "explanation"}
_CLAIM = (
    f"SELECT {', '.join(f'{c}::text' if c in _TIMES | _JSON else c for c in READ)} "
    f"FROM {ActionRecord._meta.db_table} WHERE state = ANY(%s::text[]) {{batch}}{{partition}}"
    "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"
)


def _parsers() -> list:
    def as_time(text):
        return None if text is None else datetime.fromisoformat(text)

    def as_json(text):
        return _decode_json(text)

    return [as_time if c in _TIMES else as_json if c in _JSON else None for c in READ]


_PARSERS = _parsers()


def _chunk_size() -> int:
    return getattr(settings, "EARN_PIPELINE_CHUNK", CHUNK)


PARTITION_OF = "abs(hashtext(subject) %% %s) = %s "
"""A record's partition: by member id, so one citizen's records meet in one partition."""


def _claim(*, batch_id, states, partition: tuple[int, int] | None = None) -> list[tuple]:
    """Lock and read up to a chunk of records, oldest first, skipping those another run holds."""
    if connection.vendor != "postgresql":
        records = ActionRecord.objects.select_for_update(skip_locked=True).filter(state__in=list(states))
        if batch_id is not None:
            records = records.filter(batch_id=batch_id)
        return list(records.order_by("id").values_list(*READ)[:_chunk_size()])
    # Times and JSON read as text and parsed here: Django's time-zone-aware loader is Python code
    # called per value, ``datetime.fromisoformat`` is C (this read is a fifth of a chunk's CPU).
    params = [pg_array(states)] + ([str(batch_id)] if batch_id is not None else [])
    params += [partition[1], partition[0]] if partition else []
    params.append(_chunk_size())
    sql = _CLAIM.format(batch="AND batch_id = %s " if batch_id is not None else "",
                        partition="AND " + PARTITION_OF if partition else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    parsers = _PARSERS
    return [tuple(value if parse is None else parse(value) for parse, value in zip(parsers, row, strict=True)) for row in rows]


_WRITTEN_TYPES = {
    "id": "bigint", "state": "text", "reason": "text", "capped": "boolean", "account_id": "bigint",
    "methodology_id": "bigint", "conversion_rule_id": "bigint", "reduction_g": "bigint",
    "counted_quantity": "numeric", "credited_g": "bigint", "points": "bigint", "points_available_at": "timestamptz",
    "points_settled": "boolean", "hold_until": "timestamptz", "explanation": "jsonb", "credited_at": "timestamptz",
}
WRITTEN = (*_WRITTEN_TYPES, "updated_at")
"""The columns a chunk writes back (``updated_at`` is the same for all its records)."""
_UPDATE = (
    f"UPDATE {ActionRecord._meta.db_table} a SET "
    + ", ".join(f"{name} = o.{name}" for name in _WRITTEN_TYPES if name != "id") + ", updated_at = %s "
    + "FROM unnest(" + ", ".join(f"%s::{t}[]" for t in _WRITTEN_TYPES.values()) + ") "
    + f"AS o({', '.join(_WRITTEN_TYPES)}) WHERE a.id = o.id"
)


def _save(records: list[Work], now: datetime) -> None:
    """Write every record of the chunk back in one statement.

    PostgreSQL joins the rows to ``unnest`` of one array literal per column: the planner then
    looks each record up by its primary key (a staged temporary table was planned as a hash join
    over the whole action table, a cost that grows with the table). Other databases (the
    embedded default) use ``bulk_set``.
    """
    for record in records:
        record.updated_at = now
    if connection.vendor != "postgresql":
        bulk_set([ActionRecord(**{name: getattr(r, name) for name in WRITTEN}) for r in records], WRITTEN[1:])
        return
    encode = _json.encode
    arrays = [pg_array(encode(r.explanation).decode() for r in records) if name == "explanation"
              else pg_array(getattr(r, name) for r in records) for name in _WRITTEN_TYPES]
    with connection.cursor() as cursor:
        cursor.execute(_UPDATE, [now, *arrays])


KEYED_LOOKUPS = """
SET LOCAL synchronous_commit = off;
SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL enable_bitmapscan = off;
SET LOCAL enable_seqscan = off; SET LOCAL max_parallel_workers_per_gather = 0
"""
"""How a pipeline transaction runs on PostgreSQL.

Asynchronous commit is safe to lose on a crash: the records' states and the ledger commit (or
vanish) together, and a lost chunk is simply pending again; partners' intake stays durable.

Every statement of a chunk looks rows up by a key (a record's id, a citizen's time window, an
account's unique key), thousands at a time. During a burst the statistics lag behind (700,000
pending records counted as 5,000), and with a 5,000-element array the planner chose hash joins
over parallel scans of the whole action table and a bitmap scan of every pending record: a cost
that grows with the table. Here the planner may only walk indexes, row by row, which costs the
same whatever the table's size.
"""


def _process_chunk(*, batch_id, states, until: str, catalogue: Catalogue, counts: dict,
                   partition: tuple[int, int] | None = None) -> int:
    """One chunk, in one database transaction: claimed, moved on as far as ``until``, written."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(KEYED_LOOKUPS)
        records = [Work(row, catalogue) for row in _claim(batch_id=batch_id, states=states, partition=partition)]
        if not records:
            return 0
        now = timezone.now()
        received = [r for r in records if r.state == ActionState.RECEIVED]
        _quantify(received, catalogue)
        counts["quantified"] += len(received)
        spec = None
        if until != ActionState.QUANTIFIED:
            quantified = [r for r in records if r.state == ActionState.QUANTIFIED]
            links = linked_members(members={(r.partner_id, r.subject) for r in quantified})
            _lock_citizens({link.account_id for link in links.values()}
                           | {r.account_id for r in records if r.state == ActionState.VERIFIED})
            _verify(quantified, links, _VerifyContext.at(now))
            counts["verified"] += len(quantified)
            if until == ActionState.CREDITED:
                verified = [r for r in records if r.state == ActionState.VERIFIED]
                spec = _credit(verified, catalogue, now)
                counts["credited"] += len(verified)
        _save(records, now)
        if spec is not None:  # last: the issuance accounts are hot rows, held only until commit
            transaction_post_many(specs=[spec])
    return len(records)


def _run(*, batch_id, until: str, partition: tuple[int, int] | None = None) -> dict:
    states = {ActionState.QUANTIFIED: [ActionState.RECEIVED],
              ActionState.VERIFIED: [ActionState.RECEIVED, ActionState.QUANTIFIED]}.get(until, PENDING_STATES)
    catalogue = Catalogue()
    counts = {"quantified": 0, "verified": 0, "credited": 0}
    while _process_chunk(batch_id=batch_id, states=states, until=until, catalogue=catalogue,
                         counts=counts, partition=partition) == _chunk_size():
        pass  # a shorter chunk means the rest, if any, is locked by another run that will finish it
    return counts


PARTITION_LOCK = 0x45415243  # advisory lock class of the pipeline's partitions ("EARC")


def _drain() -> dict:
    """Every pending record, whatever its batch, one partition at a time.

    With ``EARN_PIPELINE_PARTITIONS`` = n > 1 (PostgreSQL), concurrent runs each take a partition
    of the queue by member id under an advisory lock, so they do not queue on the citizens they
    would share, and n runs use n cores. A run that finds a partition taken leaves it to its
    holder, which looks again after letting go: records committed meanwhile are never stranded.
    """
    n = getattr(settings, "EARN_PIPELINE_PARTITIONS", 1)
    if n <= 1 or connection.vendor != "postgresql":
        return _run(batch_id=None, until=ActionState.CREDITED)
    counts: dict = {}
    for p in range(n):
        while _partition_lock(p):
            try:
                for stage, done in _run(batch_id=None, until=ActionState.CREDITED, partition=(p, n)).items():
                    counts[stage] = counts.get(stage, 0) + done
            finally:
                _partition_unlock(p)
            if not _partition_pending(p, n):
                break
    return counts


def _partition_lock(p: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [PARTITION_LOCK, p])
        return cursor.fetchone()[0]


def _partition_unlock(p: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [PARTITION_LOCK, p])


def _partition_pending(p: int, n: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {ActionRecord._meta.db_table} "
                       f"WHERE state = ANY(%s::text[]) AND {PARTITION_OF})", [pg_array(PENDING_STATES), n, p])
        return cursor.fetchone()[0]


def batch_process(*, batch_id=None) -> dict:
    """A batch's records, then every other pending record, through every stage, chunk by chunk.

    A task is enqueued per partner request, but each run goes on to drain the queue of pending
    records whatever their batch (``_drain``), so a busy feed is processed in full chunks rather
    than one small transaction per request, and the runs that follow find little or nothing
    left. The batch's own records go first and commit on their own, so a record that fails
    elsewhere in the queue never holds this batch back.
    """
    counts = _run(batch_id=batch_id, until=ActionState.CREDITED) if batch_id is not None else {}
    for stage, done in _drain().items():
        counts[stage] = counts.get(stage, 0) + done
    return counts


def batch_quantify(*, batch_id) -> int:
    """Only quantify the batch's received records (a stage on its own: operators, tests)."""
    return _run(batch_id=batch_id, until=ActionState.QUANTIFIED)["quantified"]


def batch_verify(*, batch_id) -> int:
    """Quantify and verify the batch's records, stopping before crediting."""
    return _run(batch_id=batch_id, until=ActionState.VERIFIED)["verified"]


# --- periodic work ------------------------------------------------------------------------

def points_settle(*, limit: int = CHUNK) -> int:
    """Move points whose settling period is over from pending to available."""
    with transaction.atomic():
        records = list(
            ActionRecord.objects.select_for_update(skip_locked=True)
            .filter(points_settled=False, points_available_at__lte=timezone.now()).order_by("id")[:limit]
        )
        owners = {r.account_id for r in records}
        keys = [(kind, o, unit) for o in owners
                for kind, unit in (citizen_ledger.POINTS, citizen_ledger.POINTS_PENDING)]
        accounts = ledger_accounts_get_or_create(keys=keys)
        specs = []
        for record in records:
            record.points_settled = True
            if record.points:
                specs.append(TransactionSpec(
                    kind=earn_ledger.SETTLE_KIND, idempotency_key=f"earn:settle:{record.pk}",
                    reference=f"action:{record.pk}",
                    legs=[Leg(accounts[(citizen_ledger.POINTS_PENDING[0], record.account_id, "pt")], -record.points),
                          Leg(accounts[(citizen_ledger.POINTS[0], record.account_id, "pt")], record.points)],
                ))
        transaction_post_many(specs=specs)
        bulk_set(records, ["points_settled"])
    return len(records)


def unlinked_expire() -> int:
    """Held records whose citizen did not link in time expire (set-based)."""
    now = timezone.now()
    return ActionRecord.objects.filter(state=ActionState.UNLINKED, hold_until__lte=now).update(
        state=ActionState.EXPIRED, reason="link_window_passed", updated_at=now
    )


def unlinked_release(*, partner_id: int, subject: str) -> tuple[list[str], int]:
    """A citizen linked this subject: its held records go back to verification.

    Returns the batches to verify again (the caller enqueues them after commit) and how many
    records were released.
    """
    now = timezone.now()
    held = ActionRecord.objects.filter(partner_id=partner_id, subject=subject, state=ActionState.UNLINKED,
                                       hold_until__gt=now)
    batch_ids = sorted({str(b) for b in held.values_list("batch_id", flat=True)})
    released = held.update(state=ActionState.QUANTIFIED, updated_at=now)
    return batch_ids, released


MAX_PIPELINE_RUNS = 20
"""A batch run this often without finishing is left to an operator (a poison batch would loop)."""


def batch_run_record(*, batch_id) -> None:
    """Count a pipeline run on the batch (compare-and-set free: an F() increment)."""
    Batch.objects.filter(pk=batch_id).update(pipeline_runs=F("pipeline_runs") + 1, last_run_at=timezone.now())


def stuck_batches(*, older_than: timedelta = timedelta(minutes=5), limit: int = 200) -> list[str]:
    """Batches with records waiting in a pipeline state for longer than a run should take."""
    cutoff = timezone.now() - older_than
    return [str(b) for b in ActionRecord.objects.filter(
        state__in=PENDING_STATES, updated_at__lt=cutoff, batch__pipeline_runs__lt=MAX_PIPELINE_RUNS,
    ).values_list("batch_id", flat=True).distinct()[:limit]]
