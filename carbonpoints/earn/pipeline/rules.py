"""The earn side's rules: quantify, verify, cap and credit a batch of records, in memory.

``decide`` runs them in their one order (docs/crediting.md walks through it): intake (records new
from a partner), the worker (records released on linking or approved on review) and a
correction all call it, so there is one crediting path. The rules are pure functions over
``Record`` objects and the rows the store returns (links, usage of the caps, overlapping trips,
carried remainders, budgets); nothing here reads or writes the database: ``decide`` asks its
``Reads`` (the ``store`` module) for rows as it goes, and ``runner`` writes what was decided.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, NamedTuple, Protocol

from accounts import ledger_accounts as citizen_ledger
from carbonpoints.budgets import ledger_accounts as budget_ledger
from carbonpoints.budgets.rules import BudgetState, Funding
from carbonpoints.ledger.keys import AccountKey, AccountKind
from carbonpoints.methodologies.models import ConversionRule, Methodology
from carbonpoints.methodologies.quantify import points_for, reduction_g
from carbonpoints.methodologies.selectors import Catalogue

from ..models import ActionRecord, ActionState
from ..reasons import REVERSALS, Reason
from ..selectors import LinkedMember

MICRO = Decimal(1_000_000)
"""Cap usage is counted in millionths of a unit: quantities have six decimal places, so the
counters are exact integers on every database."""


@dataclass(slots=True, eq=False)
class Record:
    """One action record as the rules see it: its columns as plain attributes.

    A run handles thousands at a time; Django's per-instance machinery cost more than the work
    itself (docs/performance/ingest.md). ``id`` is None until a new record is inserted.
    """

    partner_id: int
    external_id: str
    subject: str
    action: str
    quantity: Decimal
    unit: str
    occurred_at: datetime
    ends_at: datetime
    received_at: datetime
    attributes: dict[str, Any] = field(default_factory=dict)
    region_id: str = ""
    """Where the action happened (a GB/T 2260 code; empty: the default region)."""
    id: int | None = None
    batch_id: Any = None
    raw: str = ""
    attributes_json: str = "{}"
    state: str = ActionState.RECEIVED
    reason: str = ""
    capped: bool = False
    review: str = ""
    account_id: int | None = None
    methodology: Methodology | None = None
    methodology_id: int | None = None
    conversion_rule_id: int | None = None
    reduction_g: int | None = None
    counted_quantity: Decimal | None = None
    credited_g: int | None = None
    points: int | None = None
    points_available_at: datetime | None = None
    points_settled: bool = True
    budget_id: int | None = None
    hold_until: datetime | None = None
    explanation: dict[str, Any] = field(default_factory=dict)
    credited_at: datetime | None = None
    corrections: int = 0


@dataclass(frozen=True)
class Policy:
    """The settings the rules apply, read once per run."""

    now: datetime
    tz: tzinfo
    clock_skew: timedelta
    backfill: timedelta
    hold: timedelta
    settling: timedelta
    duplicate_tolerance: timedelta


class Explained(Protocol):
    explanation: dict[str, Any]


def explain(record: Explained, code: Reason, **figures: Any) -> None:
    """Add a rule to what explains a record ("why this many points"): a record in memory here,
    or a stored one when an operator or a correction decides on it."""
    explanation = record.explanation or {}
    record.explanation = {
        **explanation,
        "rules": [*explanation.get("rules", ()), {"code": code, **figures}],
    }


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


# --- quantify -----------------------------------------------------------------------------


def quantify(records: Iterable[Record], catalogue: Catalogue) -> None:
    """The methodology in force at ``occurred_at`` and its grams; or rejected, with the reason.

    The explanation keeps only what is particular to the record (rules and the conversion); the
    methodology's published factors are read from its version when the explanation is shown.
    """
    for record in records:
        methodology = catalogue.methodology_at(record.action, record.occurred_at, record.region_id)
        if methodology is None:
            _reject(record, Reason.NO_METHODOLOGY)
            continue
        if methodology.unit != record.unit:
            _reject(record, Reason.UNIT_MISMATCH, expected=methodology.unit)
            continue
        rate = Decimal(1)
        if record.attributes.get("self_reported") is True:  # a citizen's word: the reduced rate
            if methodology.self_reported_factor is None:
                _reject(record, Reason.SELF_REPORT_NOT_ALLOWED)
                continue
            rate = methodology.self_reported_factor
            explain(record, Reason.SELF_REPORTED, rate=_dec(rate))
        record.methodology, record.methodology_id = methodology, methodology.id
        record.reduction_g = reduction_g(
            quantity=record.quantity,
            baseline_g_per_unit=methodology.baseline_g_per_unit,
            project_g_per_unit=methodology.project_g_per_unit,
            rate=rate,
        )
        if record.reduction_g < 0:  # a project emitting more than its baseline earns nothing
            _reject(record, Reason.NO_REDUCTION)
            continue
        record.state = ActionState.QUANTIFIED


def _screened(record: Record) -> tuple[Methodology, int]:
    """A record past ``screen``: the methodology and the citizen the rules before gave it."""
    assert record.methodology is not None and record.account_id is not None, "screened records only"
    return record.methodology, record.account_id


def _reject(record: Record, code: Reason, **figures: Any) -> None:
    record.state, record.reason = ActionState.REJECTED, code
    explain(record, code, **figures)


# --- verify: one record at a time ---------------------------------------------------------


def plausibility_refusal(
    *,
    quantity: Decimal,
    occurred_at: datetime,
    received_at: datetime,
    attributes: dict,
    methodology: Methodology,
    clock_skew: timedelta,
    backfill: timedelta,
) -> tuple[Reason | None, dict]:
    """The reason code (and its figures) why a record is implausible, or ``(None, {})``."""
    if occurred_at > received_at + clock_skew:
        return Reason.OCCURRED_IN_FUTURE, {"max_skew_s": int(clock_skew.total_seconds())}
    if occurred_at < received_at - backfill:
        return Reason.TOO_OLD, {"backfill_days": backfill.days}
    if methodology.fixed_quantity is not None and quantity != methodology.fixed_quantity:
        return Reason.QUANTITY_NOT_ALLOWED, {
            "expected": str(methodology.fixed_quantity.normalize())
        }
    if (
        methodology.max_quantity_per_record is not None
        and quantity > methodology.max_quantity_per_record
    ):
        return Reason.QUANTITY_IMPLAUSIBLE, {
            "max": str(methodology.max_quantity_per_record.normalize()),
            "unit": methodology.unit,
        }
    duration = attributes.get("duration_s")
    if methodology.max_speed_kmh is not None and methodology.unit == "km" and duration:
        speed = quantity / (Decimal(str(duration)) / 3600)
        if speed > methodology.max_speed_kmh:
            return Reason.SPEED_IMPLAUSIBLE, {
                "speed_kmh": str(round(speed, 1)),
                "max_kmh": str(methodology.max_speed_kmh.normalize()),
            }
    return None, {}


KEPT_ON_REVERIFY = (Reason.APPROVED_ON_REVIEW, Reason.HELD_UNLINKED, *REVERSALS, Reason.CORRECTED)
"""Rules of an earlier verification that a new one keeps: the operator's decision, the hold, and
the corrections of the record's history (see ``earn.corrections``)."""


def screen(
    records: Iterable[Record], links: Mapping[tuple[int, str], LinkedMember], policy: Policy
) -> list[Record]:
    """Quantified records → held (unlinked), expired or rejected; returns those left to verify.

    A record counts for a citizen only through an active link whose consent covers its action
    type (its scene); without one it is held for the linking window, then expires.
    """
    candidates = []
    for record in records:
        if record.state != ActionState.QUANTIFIED:
            continue
        if record.explanation:  # verified before (a release, a review): start again from its rules
            kept = [r for r in record.explanation.get("rules", ()) if r["code"] in KEPT_ON_REVERIFY]
            record.explanation = {"rules": kept} if kept else {}
        record.capped = False
        link = links.get((record.partner_id, record.subject))
        record.account_id = (
            link.account_id if link is not None and record.action in link.actions else None
        )
        linked = record.account_id is not None
        assert record.methodology is not None, "quantified records have one"
        code, figures = plausibility_refusal(
            quantity=record.quantity,
            occurred_at=record.occurred_at,
            received_at=record.received_at,
            attributes=record.attributes,
            methodology=record.methodology,
            clock_skew=policy.clock_skew,
            backfill=policy.backfill,
        )
        if code:
            _reject(record, code, **figures)
        elif not linked:
            _hold(
                record, policy, Reason.NOT_LINKED if link is None else Reason.NO_CONSENT_FOR_ACTION
            )
        else:
            candidates.append(record)
    return candidates


def _hold(record: Record, policy: Policy, reason: Reason) -> None:
    record.hold_until = record.hold_until or record.received_at + policy.hold
    if record.hold_until <= policy.now:
        record.state, record.reason = ActionState.EXPIRED, Reason.LINK_WINDOW_PASSED
        explain(record, Reason.LINK_WINDOW_PASSED)
        return
    record.state, record.reason = ActionState.UNLINKED, reason
    if not any(r["code"] == Reason.HELD_UNLINKED for r in record.explanation.get("rules", ())):
        explain(record, Reason.HELD_UNLINKED, until=record.hold_until.isoformat())


# --- verify: records against each other and the citizen's history --------------------------


class Overlap(NamedTuple):
    """A counted record of the same citizen and action type whose time overlaps a candidate's (within
    the duplicate tolerance): a row as the store returns it, for ``duplicate_of`` to judge."""

    partner_id: int
    external_id: str
    claim: bool = False
    """The other record came from a citizen's claim (``from_claim``)."""


def from_claim(record: Record) -> bool:
    """A record taken in from a citizen's claim (confirmed by the partner, or self-reported)."""
    return record.attributes.get("claim_id") is not None


def duplicate_of(record: Record, overlaps: Iterable[Overlap]) -> tuple[Reason, Overlap] | None:
    """The duplicate-trip rule: the first overlap (in the order they happened) that is likely the
    same action counted twice, and why.

    Another partner's overlapping record is ``possible_duplicate_trip``. The same partner's is a
    duplicate only when the one or the other came from a citizen's claim
    (``possible_duplicate_claim``: the claim and the partner's own event are likely the same
    action, whichever arrived second is held); a partner's own overlapping events are its own to
    keep apart.
    """
    for other in overlaps:
        if other.partner_id != record.partner_id:
            return Reason.POSSIBLE_DUPLICATE_TRIP, other
        if other.claim or from_claim(record):
            return Reason.POSSIBLE_DUPLICATE_CLAIM, other
    return None


def flag_duplicate_trips(
    candidates: list[Record], overlapping: Mapping[int, Sequence[Overlap]]
) -> None:
    """Candidates that duplicate a counted record (``duplicate_of``) are flagged for review.

    ``overlapping`` maps a candidate's position in ``candidates`` to the counted records that
    overlap it, oldest first. An operator's approval skips this heuristic.
    """
    for n, record in enumerate(candidates):
        if n not in overlapping or record.review == ActionRecord.Review.APPROVED:
            continue
        found = duplicate_of(record, overlapping[n])
        if found is not None:
            code, other = found
            record.state, record.reason = ActionState.FLAGGED, code
            explain(
                record, code, other_partner_id=other.partner_id, other_external_id=other.external_id
            )


UsageKey = tuple[int, str, date]
"""(carbon account, action type, local day)."""


def local_day(record: Record, tz: tzinfo) -> date:
    return record.occurred_at.astimezone(tz).date()


def usage_windows(candidates: Iterable[Record], tz: tzinfo) -> set[tuple[int, str, date, date]]:
    """The days of cap usage the rules need: each candidate's day, or its month where a monthly
    cap applies, as ``(account, action, first day, day after the last)``."""
    windows = set()
    for record in candidates:
        methodology, account_id = _screened(record)
        day = local_day(record, tz)
        if methodology.monthly_cap is not None:
            first = day.replace(day=1)
            windows.add(
                (account_id, record.action, first, (first + timedelta(days=32)).replace(day=1))
            )
        elif methodology.daily_cap is not None:
            windows.add((account_id, record.action, day, day + timedelta(days=1)))
    return windows


def apply_caps(
    candidates: list[Record], usage: Mapping[UsageKey, int], tz: tzinfo
) -> dict[UsageKey, int]:
    """Per-citizen daily and monthly caps per action type: the excess is recorded, not counted.

    ``usage`` holds what each citizen counted per action and local day before these records (in
    millionths of the unit, for the days of ``usage_windows``). Records are taken in the order
    they happened. Returns what they add to it.
    """
    day_used: dict[UsageKey, Decimal] = defaultdict(Decimal)
    month_used: dict[tuple[int, str, int, int], Decimal] = defaultdict(Decimal)
    for (account_id, action, day), micro in usage.items():
        day_used[(account_id, action, day)] += micro / MICRO
        month_used[(account_id, action, day.year, day.month)] += micro / MICRO
    added: dict[UsageKey, int] = defaultdict(int)
    for record in sorted(candidates, key=_in_time_order):
        if record.state == ActionState.FLAGGED:
            continue
        methodology, account_id = _screened(record)
        day = local_day(record, tz)
        day_key = (account_id, record.action, day)
        month_key = (account_id, record.action, day.year, day.month)
        counted = record.quantity
        limits: list[tuple[Reason, Decimal, Decimal]] = []
        if methodology.daily_cap is not None:
            limits.append((Reason.DAILY_CAP, methodology.daily_cap, day_used[day_key]))
        if methodology.monthly_cap is not None:
            limits.append((Reason.MONTHLY_CAP, methodology.monthly_cap, month_used[month_key]))
        for code, cap, used in limits:
            room = max(cap - used, Decimal(0))
            if counted > room:
                counted = room
                record.capped = True
                explain(record, code, cap=_dec(cap), used_before=_dec(used), unit=methodology.unit)
        day_used[day_key] += counted
        month_used[month_key] += counted
        added[day_key] += int(counted * MICRO)
        record.counted_quantity = counted
        if counted == record.quantity:
            record.credited_g = record.reduction_g
        else:
            record.credited_g = reduction_g(
                quantity=counted,
                baseline_g_per_unit=methodology.baseline_g_per_unit,
                project_g_per_unit=methodology.project_g_per_unit,
            )
            explain(
                record,
                Reason.PARTLY_COUNTED,
                counted_quantity=_dec(counted),
                quantity=_dec(record.quantity),
                credited_g=record.credited_g,
            )
        record.state, record.reason = ActionState.VERIFIED, (Reason.CAPPED if record.capped else "")
    return {key: micro for key, micro in added.items() if micro}


def _in_time_order(record: Record) -> tuple:
    return record.occurred_at, record.id or 0, record.external_id


# --- credit -------------------------------------------------------------------------------


@dataclass
class Credit:
    """What crediting a batch moves: per citizen, per pool, and the carried remainders after."""

    grams_by_owner: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    points_by_owner: dict[tuple[int, bool], int] = field(default_factory=lambda: defaultdict(int))
    grams_by_pool: dict[AccountKey, int] = field(default_factory=lambda: defaultdict(int))
    points_by_budget: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    """What each sponsor's budget funds of the batch's points."""
    carries: dict[int, int] = field(default_factory=dict)
    """Each citizen's carried remainder after the batch, where it changed."""
    records: list[Record] = field(default_factory=list)
    """The credited records that moved grams (each is named in the ledger transaction)."""

    def account_keys(self) -> list[AccountKey]:
        """The citizens' and pools' accounts the transaction moves (the sources are the platform's)."""
        keys = [citizen_ledger.REDUCTION.of(owner) for owner in self.grams_by_owner]
        keys += [points_kind(pending).of(owner) for owner, pending in self.points_by_owner]
        keys += [budget_ledger.BUDGET.of(budget_id) for budget_id in self.points_by_budget]
        return keys + list(self.grams_by_pool)


def pool_of(action: str, occurred_at: datetime, tz: tzinfo) -> AccountKey:
    """The pool that holds the claim on an action's grams: its methodology's, of the local month it
    happened in (its vintage)."""
    local = occurred_at.astimezone(tz)
    return citizen_ledger.pool_account(
        methodology_code=action, vintage_year=local.year, vintage_month=local.month
    )


def points_kind(pending: bool) -> AccountKind:
    """The citizen's account new points go to: pending during a settling period, else available."""
    return citizen_ledger.POINTS_PENDING if pending else citizen_ledger.POINTS


class NoConversionRule(RuntimeError):
    """No conversion rule is in force: an operator must add one before anything is credited."""


def credit(
    verified: list[Record],
    carried: Mapping[int, int],
    rules: list[ConversionRule],
    funding: Funding,
    policy: Policy,
) -> Credit:
    """Verified → credited: points from the grams plus the citizen's carried remainder, funded by
    a sponsor's budget.

    Records are taken in the order they happened, each at the conversion rule in force then. The
    grams' claim passes to the pool of the action's methodology and month (vintage). The points
    are drawn on the budget ``funding`` chooses; a throttled budget scales them by its published
    factor, and points no budget can fund now wait for funding (never issued unfunded).
    """
    outcome = Credit()
    carry = dict(carried)
    pending = policy.settling > timedelta(0)
    for record in sorted(verified, key=_in_time_order):
        rule = _rule_at(rules, record.occurred_at) or _rule_at(rules, policy.now)
        if rule is None:
            raise NoConversionRule("no conversion rule in force: add one in the admin")
        _methodology, owner = _screened(record)
        grams = record.credited_g
        assert grams is not None, "verified records have their grams"
        before = carry.get(owner, 0)

        def earn(
            share: Decimal,
            grams: int = grams,
            before: int = before,
            gpp: int = rule.grams_per_point,
        ) -> tuple[int, int]:
            counted = (
                grams if share == 1 else int((grams * share).to_integral_value(ROUND_HALF_EVEN))
            )
            return points_for(grams=counted, carried_g=before, grams_per_point=gpp)

        choice = funding.choose(record.action, earn, region=record.region_id) if grams else None
        points, remainder = (choice.points, choice.remainder_g) if choice else earn(Decimal(1))
        budget = choice.budget if choice and points else None
        waits = bool(choice and choice.waits and points)
        settles = pending and points > 0 and not waits
        record.explanation = {
            **record.explanation,
            "conversion": {
                "grams_per_point": rule.grams_per_point,
                "carried_in_g": before,
                "carried_out_g": remainder,
                "points": points,
                "points_status": "awaiting_funding"
                if waits
                else "pending"
                if settles
                else "available",
                **({"sponsor": budget.sponsor, "budget_id": budget.id} if budget else {}),
            },
        }
        carry[owner] = remainder
        record.conversion_rule_id = rule.id
        record.points = points
        record.budget_id = budget.id if budget else None
        record.state, record.credited_at = ActionState.CREDITED, policy.now
        record.points_settled = not (settles or waits)
        record.points_available_at = (
            None if waits else policy.now + policy.settling if settles else policy.now
        )
        if settles:
            explain(record, Reason.SETTLING_PERIOD, days=policy.settling.days)
        if choice and choice.factor != 1:
            explain(
                record,
                Reason.BUDGET_THROTTLED,
                factor=_dec(choice.factor),
                sponsor=budget.sponsor if budget else "",
            )
        if waits:
            assert choice is not None
            explain(record, Reason.AWAITING_FUNDING, because=choice.waits)
        if grams == 0:
            continue
        outcome.records.append(record)
        outcome.grams_by_owner[owner] += grams
        outcome.grams_by_pool[pool_of(record.action, record.occurred_at, policy.tz)] += grams
        if budget is not None:
            outcome.points_by_owner[(owner, settles)] += points
            outcome.points_by_budget[budget.id] += points
    outcome.carries = {
        owner: grams for owner, grams in carry.items() if grams != carried.get(owner, 0)
    }
    return outcome


def funded(record: Record, budget: BudgetState, policy: Policy) -> None:
    """A credit that waited for funding is funded by ``budget`` now: its points settle from now on."""
    settles = policy.settling > timedelta(0)
    record.budget_id = budget.id
    record.points_settled = not settles
    record.points_available_at = policy.now + policy.settling if settles else policy.now
    conversion = {
        **record.explanation.get("conversion", {}),
        "sponsor": budget.sponsor,
        "budget_id": budget.id,
        "points_status": "pending" if settles else "available",
    }
    record.explanation = {**record.explanation, "conversion": conversion}
    explain(record, Reason.FUNDED, sponsor=budget.sponsor, at=policy.now.isoformat())


def _rule_at(rules: list[ConversionRule], at: datetime) -> ConversionRule | None:
    for rule in reversed(rules):
        if rule.in_force(at):
            return rule
    return None


# --- the order of the rules ---------------------------------------------------------------


class Reads(Protocol):
    """The rows ``decide`` reads as it goes, in this order: the ``store`` module reads them from the
    database; a test hands them in from memory."""

    def links(self, records: Iterable[Record]) -> Mapping[tuple[int, str], LinkedMember]: ...

    def citizens_lock(self, account_ids: Iterable[int]) -> None: ...

    def known_external_ids(self, *, partner_id: int, external_ids: list[str]) -> set[str]: ...

    def overlapping_trips(
        self, candidates: list[Record], tolerance: timedelta
    ) -> Mapping[int, Sequence[Overlap]]: ...

    def usage(self, windows: set[tuple[int, str, date, date]]) -> Mapping[UsageKey, int]: ...

    def carries(self, owners: Iterable[int]) -> Mapping[int, int]: ...

    def funding(self, now: datetime) -> list[BudgetState]: ...


@dataclass
class Decided:
    """What deciding a set of records adds besides the records themselves (which it changes)."""

    usage: dict[UsageKey, int]
    """What the records add to their citizens' cap usage."""
    credit: Credit
    resent: set[str] = field(default_factory=set)
    """New records found stored already (a partner's resend), by external id: left out."""


def decide(
    records: list[Record], catalogue: Catalogue, policy: Policy, reads: Reads, *, new: bool = False
) -> Decided:
    """Every rule, in its one order: quantify, screen (plausibility, link and consent), duplicates,
    caps, credit (conversion, carry and funding).

    The citizens the candidates belong to are locked before their usage and carries are read, so
    concurrent batches of one citizen queue there and caps hold across them. ``new``: a partner's
    records not stored yet; those it sent before, found once the locks are held, are left out
    (``Decided.resent``).
    """
    quantify(records, catalogue)
    candidates = screen(
        records, reads.links([r for r in records if r.state == ActionState.QUANTIFIED]), policy
    )
    reads.citizens_lock(r.account_id for r in candidates if r.account_id is not None)
    resent: set[str] = set()
    if new and records:
        resent = reads.known_external_ids(
            partner_id=records[0].partner_id, external_ids=[r.external_id for r in records]
        )
        candidates = [r for r in candidates if r.external_id not in resent]
    flag_duplicate_trips(
        candidates, reads.overlapping_trips(candidates, policy.duplicate_tolerance)
    )
    counted = [r for r in candidates if r.state != ActionState.FLAGGED]
    usage = apply_caps(counted, reads.usage(usage_windows(counted, policy.tz)), policy.tz)
    verified = [r for r in counted if r.state == ActionState.VERIFIED]
    carried = reads.carries(r.account_id for r in verified if r.account_id is not None)
    funding = Funding(reads.funding(policy.now)) if verified else Funding([])
    return Decided(
        usage=usage,
        credit=credit(verified, carried, catalogue.rules, funding, policy),
        resent=resent,
    )
