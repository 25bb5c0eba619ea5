"""The pipeline over whole batches: quantify → verify → credit, then settle and expire.

Each stage takes the records of a batch in its input state, a chunk at a time, and moves them
on in one database transaction with a handful of set-based statements; so a stage is safe to
run twice and resumes after a crash from what the database says is left to do.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from accounts import ledger_accounts as citizen_ledger
from accounts.models import CarbonAccount
from accounts.selectors import identity_links_active
from carbonpoints.bulk import bulk_set
from carbonpoints.ledger.services import (
    Leg,
    TransactionSpec,
    ledger_accounts_get_or_create,
    transaction_post_many,
)
from carbonpoints.methodologies.quantify import points_for, reduction_g
from carbonpoints.methodologies.selectors import Catalogue

from . import ledger_accounts as earn_ledger
from .models import COUNTED_STATES, PENDING_STATES, ActionRecord, ActionState, Batch, CitizenCarry
from .verification import overlaps, plausibility_refusal

CHUNK = 2000
UPDATED = ["state", "reason", "capped", "account", "methodology", "conversion_rule", "reduction_g",
           "counted_quantity", "credited_g", "points", "points_available_at", "points_settled",
           "hold_until", "explanation", "credited_at", "updated_at"]


def _chunk(batch_id, state: str) -> list[ActionRecord]:
    return list(
        ActionRecord.objects.select_for_update(skip_locked=True).defer("raw")
        .filter(batch_id=batch_id, state=state).order_by("id")[:CHUNK]
    )


def _save(records: list[ActionRecord]) -> None:
    now = timezone.now()
    for record in records:
        record.updated_at = now
    bulk_set(records, UPDATED)


def _rule(record: ActionRecord, code: str, **figures) -> None:
    rules = list(record.explanation.get("rules", []))
    rules.append({"code": code, **figures})
    record.explanation = {**record.explanation, "rules": rules}


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


# --- quantify -----------------------------------------------------------------------------

def _quantify(records: list[ActionRecord], catalogue: Catalogue) -> None:
    """Received → quantified (or rejected), in memory: the caller saves."""
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
        record.methodology = methodology
        record.reduction_g = reduction_g(
            quantity=record.quantity, baseline_g_per_unit=methodology.baseline_g_per_unit,
            project_g_per_unit=methodology.project_g_per_unit,
        )
        record.explanation = {
            **record.explanation,
            "methodology": catalogue.explained(methodology),
            "quantity": _dec(record.quantity),
            "raw_reduction_g": record.reduction_g,
        }
        if record.reduction_g < 0:  # a project emitting more than its baseline earns nothing
            record.state, record.reason = ActionState.REJECTED, "no_reduction"
            _rule(record, "no_reduction")
            continue
        record.state = ActionState.QUANTIFIED


def batch_quantify(*, batch_id) -> int:
    """Pick the methodology in force at each record's occurred_at and compute its reduction."""
    catalogue = Catalogue()
    done = 0
    while True:
        with transaction.atomic():
            records = _chunk(batch_id, ActionState.RECEIVED)
            if not records:
                return done
            _quantify(records, catalogue)
            _save(records)
            done += len(records)


# --- verify -------------------------------------------------------------------------------

def _lock_citizens(account_ids) -> None:
    """Serialise verification and crediting per citizen, so caps hold across batches."""
    if not account_ids:
        return
    list(CarbonAccount.objects.select_for_update().filter(pk__in=sorted(account_ids)).order_by("pk")
         .values_list("pk", flat=True))


def _flag_duplicate_trips(candidates: list[ActionRecord], partner_id: int) -> None:
    """Same citizen, same mode, overlapping time, another partner: flagged for review."""
    checked = [r for r in candidates if r.review != ActionRecord.Review.APPROVED]
    if not checked:
        return
    tolerance = timedelta(seconds=settings.EARN_DUPLICATE_TOLERANCE_S)
    others = (
        ActionRecord.objects.filter(
            account_id__in={r.account_id for r in checked}, action__in={r.action for r in checked},
            state__in=COUNTED_STATES,
            occurred_at__lte=max(r.ends_at for r in checked) + tolerance,
            ends_at__gte=min(r.occurred_at for r in checked) - tolerance,
        ).exclude(partner_id=partner_id).values("id", "account_id", "action", "occurred_at", "ends_at",
                                                 "partner_id", "external_id")
    )
    by_key = defaultdict(list)
    for other in others:
        by_key[(other["account_id"], other["action"])].append(other)
    for record in checked:
        for other in by_key.get((record.account_id, record.action), ()):
            if overlaps(record.occurred_at, record.ends_at, other["occurred_at"], other["ends_at"], tolerance):
                record.state, record.reason = ActionState.FLAGGED, "possible_duplicate_trip"
                _rule(record, "possible_duplicate_trip", other_partner_id=other["partner_id"],
                      other_external_id=other["external_id"])
                break


def _usage(candidates: list[ActionRecord], trunc, field_name: str) -> dict:
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    rows = (
        ActionRecord.objects.filter(
            account_id__in={r.account_id for r in candidates}, action__in={r.action for r in candidates},
            state__in=COUNTED_STATES,
            occurred_at__gte=min(r.occurred_at for r in candidates) - timedelta(days=32),
            occurred_at__lte=max(r.occurred_at for r in candidates) + timedelta(days=32),
        )
        .annotate(period=trunc("occurred_at", tzinfo=tz))
        .values("account_id", "action", "period").annotate(total=Sum("counted_quantity"))
    )
    usage = defaultdict(Decimal)
    for row in rows:
        period = row["period"]
        key = (period.year, period.month) if field_name == "month" else period
        usage[(row["account_id"], row["action"], key)] += row["total"] or Decimal(0)
    return usage


def _apply_caps(candidates: list[ActionRecord]) -> None:
    """Per-citizen daily and monthly caps per action type: the excess is recorded, not counted."""
    if not candidates:
        return
    daily = (_usage(candidates, TruncDate, "day") if any(r.methodology.daily_cap for r in candidates)
             else defaultdict(Decimal))
    monthly = (_usage(candidates, TruncMonth, "month") if any(r.methodology.monthly_cap for r in candidates)
               else defaultdict(Decimal))
    for record in sorted(candidates, key=lambda r: (r.occurred_at, r.pk)):
        methodology = record.methodology
        local = timezone.localtime(record.occurred_at)
        day_key = (record.account_id, record.action, local.date())
        month_key = (record.account_id, record.action, (local.year, local.month))
        counted = record.quantity
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
    partner_id: int
    now: datetime
    clock_skew: timedelta
    backfill: timedelta
    hold: timedelta

    @classmethod
    def of(cls, batch_id) -> _VerifyContext:
        return cls(
            partner_id=Batch.objects.values_list("partner_id", flat=True).get(pk=batch_id),
            now=timezone.now(),
            clock_skew=timedelta(seconds=settings.EARN_CLOCK_SKEW_S),
            backfill=timedelta(days=settings.EARN_BACKFILL_DAYS),
            hold=timedelta(days=settings.EARN_UNLINKED_HOLD_DAYS),
        )


def _verify(records: list[ActionRecord], links: dict, ctx: _VerifyContext) -> None:
    """Quantified → verified (maybe capped), unlinked, rejected or flagged, in memory.

    The citizens of ``links`` must be locked by the caller (caps hold across batches).
    """
    candidates = []
    for record in records:
        record.explanation = {k: v for k, v in record.explanation.items()
                              if k not in ("rules", "conversion")} | {
            "rules": [rule for rule in record.explanation.get("rules", [])
                      if rule["code"] in ("approved_on_review", "held_unlinked")]}
        record.capped = False
        link = links.get(record.subject)
        linked = link is not None and record.action in link.consented_actions
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
                if not any(r["code"] == "held_unlinked" for r in record.explanation["rules"]):
                    _rule(record, "held_unlinked", until=record.hold_until.isoformat())
            continue
        candidates.append(record)
    _flag_duplicate_trips(candidates, ctx.partner_id)
    _apply_caps([r for r in candidates if r.state != ActionState.FLAGGED])


def batch_verify(*, batch_id) -> int:
    """Decide each quantified record: verified (maybe capped), unlinked, rejected or flagged."""
    ctx = _VerifyContext.of(batch_id)
    done = 0
    while True:
        with transaction.atomic():
            records = list(
                ActionRecord.objects.select_for_update(skip_locked=True, of=("self",)).defer("raw")
                .select_related("methodology")
                .filter(batch_id=batch_id, state=ActionState.QUANTIFIED).order_by("id")[:CHUNK]
            )
            if not records:
                return done
            ctx = replace(ctx, now=timezone.now())
            links = identity_links_active(partner_id=ctx.partner_id, subjects={r.subject for r in records})
            _lock_citizens({link.account_id for link in links.values()})
            _verify(records, links, ctx)
            _save(records)
            done += len(records)


# --- credit -------------------------------------------------------------------------------

def _ledger_accounts(records: list[ActionRecord], settling: bool) -> dict:
    """The ledger accounts these records post to: only the kinds a credit uses, read in one query."""
    owners = {r.account_id for r in records}
    kinds = (citizen_ledger.REDUCTION, citizen_ledger.POINTS_PENDING if settling else citizen_ledger.POINTS)
    citizen_keys = [(kind, owner, unit) for owner in owners for kind, unit in kinds]
    pools = set()
    for record in records:
        local = timezone.localtime(record.occurred_at)
        key = citizen_ledger.pool_account_key(methodology_code=record.action, vintage_year=local.year,
                                              vintage_month=local.month)
        pools.add((key["kind"], key["owner_id"], key["unit"]))
    accounts = ledger_accounts_get_or_create(keys=citizen_keys + sorted(pools))
    accounts |= ledger_accounts_get_or_create(keys=list(earn_ledger.SOURCES), allow_negative=True)
    return accounts


def _credit(records: list[ActionRecord], catalogue: Catalogue, now: datetime) -> tuple[list, list]:
    """Verified → credited, in memory; returns the carries to save and the ledger specs to post.

    The caller has locked the citizens; it saves the records and carries, then posts the specs
    last, so the hot issuance accounts are locked only for the ledger writes and the commit.
    """
    if not records:
        return [], []
    settling = timedelta(days=settings.EARN_SETTLING_DAYS)
    owners = sorted({r.account_id for r in records})
    CitizenCarry.objects.bulk_create([CitizenCarry(account_id=o) for o in owners], ignore_conflicts=True)
    carries = {c.account_id: c for c in CitizenCarry.objects.select_for_update()
               .filter(account_id__in=owners).order_by("account_id")}
    accounts = _ledger_accounts(records, settling > timedelta(0))
    grams_issuance = accounts[earn_ledger.GRAMS_ISSUANCE]
    claim_issuance = accounts[earn_ledger.CLAIM_ISSUANCE]
    points_issuance = accounts[earn_ledger.POINTS_ISSUANCE]
    specs = []
    for record in sorted(records, key=lambda r: (r.occurred_at, r.pk)):
        rule = catalogue.rule_at(record.occurred_at) or catalogue.rule_at(now)
        if rule is None:
            raise RuntimeError("no conversion rule in force: add one in the admin")
        carry = carries[record.account_id]
        points, remainder = points_for(grams=record.credited_g, carried_g=carry.remainder_g,
                                       grams_per_point=rule.grams_per_point)
        pending = settling > timedelta(0) and points > 0
        record.explanation = {**record.explanation, "conversion": {
            "grams_per_point": rule.grams_per_point, "carried_in_g": carry.remainder_g,
            "carried_out_g": remainder, "points": points,
            "points_status": "pending" if pending else "available",
        }, "credited_g": record.credited_g, "points": points}
        carry.remainder_g = remainder
        record.conversion_rule = rule
        record.points = points
        record.state, record.credited_at = ActionState.CREDITED, now
        record.points_settled = not pending
        record.points_available_at = now + settling if pending else now
        if pending:
            _rule(record, "settling_period", days=settling.days)
        if record.credited_g == 0:
            continue
        local = timezone.localtime(record.occurred_at)
        pool = citizen_ledger.pool_account_key(methodology_code=record.action,
                                               vintage_year=local.year, vintage_month=local.month)
        owner = record.account_id
        grams = record.credited_g
        legs = [
            Leg(grams_issuance, -grams),
            Leg(accounts[(citizen_ledger.REDUCTION[0], owner, citizen_ledger.REDUCTION[1])], grams),
            Leg(claim_issuance, -grams),
            Leg(accounts[(pool["kind"], pool["owner_id"], pool["unit"])], grams),
        ]
        if points:
            target = citizen_ledger.POINTS_PENDING if pending else citizen_ledger.POINTS
            legs += [Leg(points_issuance, -points), Leg(accounts[(target[0], owner, target[1])], points)]
        specs.append(TransactionSpec(
            kind=earn_ledger.CREDIT_KIND, legs=legs, idempotency_key=f"earn:credit:{record.pk}",
            reference=f"action:{record.pk}",
            memo=f"{record.action} {_dec(record.counted_quantity)} {record.unit}",
            metadata={"action_id": record.pk, "methodology": record.explanation["methodology"]["code"],
                      "version": record.explanation["methodology"]["version"]},
        ))
    return list(carries.values()), specs


def batch_credit(*, batch_id) -> int:
    """Post verified reductions and their points to the ledger, one idempotent transaction each.

    Grams go from issuance to the citizen's reduction account (contribution view) and, the same
    grams, from the claim issuance to the pool of (methodology, vintage month) (claim view);
    points from issuance to the citizen's points, or pending points during a settling period.
    Sub-point remainders are carried per citizen.
    """
    catalogue = Catalogue()
    done = 0
    while True:
        with transaction.atomic():
            records = _chunk(batch_id, ActionState.VERIFIED)
            if not records:
                return done
            _lock_citizens({r.account_id for r in records})
            carries, specs = _credit(records, catalogue, timezone.now())
            _save(records)
            bulk_set(carries, ["remainder_g"])
            transaction_post_many(specs=specs)
            done += len(records)


def batch_process(*, batch_id) -> dict:
    """All stages, chunk by chunk: each chunk goes as far as it can in one database transaction.

    The same state machine as the three stages (a chunk resumes from whatever state its records
    are in), but one read and one write of each record instead of three, and the citizens of the
    chunk are locked once, up front and in primary-key order, for verification and crediting.
    """
    catalogue = Catalogue()
    ctx = _VerifyContext.of(batch_id)
    counts = {"quantified": 0, "verified": 0, "credited": 0}
    while True:
        with transaction.atomic():
            records = list(
                ActionRecord.objects.select_for_update(skip_locked=True).defer("raw")
                .filter(batch_id=batch_id, state__in=PENDING_STATES).order_by("id")[:CHUNK]
            )
            if not records:
                return counts
            for record in records:  # the catalogue holds every version: no join, no copy per row
                if record.methodology_id is not None:
                    record.methodology = catalogue.by_id[record.methodology_id]
            now = timezone.now()
            ctx = replace(ctx, now=now)
            received = [r for r in records if r.state == ActionState.RECEIVED]
            _quantify(received, catalogue)
            counts["quantified"] += len(received)
            quantified = [r for r in records if r.state == ActionState.QUANTIFIED]
            links = (identity_links_active(partner_id=ctx.partner_id, subjects={r.subject for r in quantified})
                     if quantified else {})
            _lock_citizens({link.account_id for link in links.values()}
                           | {r.account_id for r in records if r.state == ActionState.VERIFIED})
            _verify(quantified, links, ctx)
            counts["verified"] += len(quantified)
            verified = [r for r in records if r.state == ActionState.VERIFIED]
            carries, specs = _credit(verified, catalogue, now)
            counts["credited"] += len(verified)
            _save(records)
            bulk_set(carries, ["remainder_g"])
            transaction_post_many(specs=specs)
        if len(records) < CHUNK:  # the rest, if any, is locked by another run that will finish it
            return counts


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
        state__in=[ActionState.RECEIVED, ActionState.QUANTIFIED, ActionState.VERIFIED], updated_at__lt=cutoff,
        batch__pipeline_runs__lt=MAX_PIPELINE_RUNS,
    ).values_list("batch_id", flat=True).distinct()[:limit]]
