"""The earn rules as pure functions: records and context in memory, no database.

These are the rules intake and the worker both run (``carbonpoints.earn.pipeline.rules``), in
the order ``rules.decide`` holds; the tests through the partner API prove them end to end,
these pin each rule down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from accounts import ledger_accounts as citizen_ledger
from carbonpoints.budgets import ledger_accounts as budget_ledger
from carbonpoints.budgets.rules import BudgetState, Funding
from carbonpoints.earn import ledger_accounts as earn_ledger
from carbonpoints.earn.pipeline import postings, rules
from carbonpoints.earn.pipeline.rules import LinkedMember, Overlap, Policy, Record
from carbonpoints.ledger.keys import AccountKey
from carbonpoints.methodologies.models import ConversionRule, Methodology
from carbonpoints.methodologies.selectors import Catalogue

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI)
METRO = Methodology(
    pk=1,
    code="metro_ride",
    version=1,
    unit="km",
    baseline_g_per_unit=Decimal("46.7"),
    project_g_per_unit=Decimal(0),
    valid_from=datetime(2020, 1, 1, tzinfo=SHANGHAI),
    max_quantity_per_record=Decimal(80),
    daily_cap=Decimal(100),
)
TEN_G = ConversionRule(pk=1, grams_per_point=10, valid_from=datetime(2020, 1, 1, tzinfo=SHANGHAI))
CATALOGUE = Catalogue([METRO], [TEN_G])
POLICY = Policy(
    now=NOW,
    tz=SHANGHAI,
    clock_skew=timedelta(minutes=5),
    backfill=timedelta(days=60),
    hold=timedelta(days=30),
    settling=timedelta(0),
    duplicate_tolerance=timedelta(minutes=2),
)
LINKS = {(7, "m-1"): LinkedMember(account_id=100, actions=frozenset({"metro_ride"}))}


def city(balance: int = 10**9) -> list[BudgetState]:
    """The city's budget in force, with ``balance`` points left of 10⁹ deposited."""
    return [
        BudgetState(
            id=1,
            sponsor="City",
            actions=frozenset(),
            ends_at=NOW + timedelta(days=300),
            balance=balance,
            deposited=10**9,
        )
    ]


def ride(km: str = "10", subject: str = "m-1", hours_ago: float = 2, **fields) -> Record:
    at = NOW - timedelta(hours=hours_ago)
    return Record(
        partner_id=7,
        external_id=f"e-{subject}-{km}-{hours_ago}",
        subject=subject,
        action="metro_ride",
        quantity=Decimal(km),
        unit="km",
        occurred_at=at,
        ends_at=at,
        received_at=NOW,
        **fields,
    )


@dataclass
class InMemory:
    """The rows ``rules.decide`` reads, handed in (``rules.Reads``; the store reads them from the database)."""

    linked: dict = field(default_factory=lambda: LINKS)
    overlaps: dict = field(default_factory=dict)
    used: dict = field(default_factory=dict)
    carried: dict = field(default_factory=dict)
    budgets: list = field(default_factory=city)
    stored: set = field(default_factory=set)
    locked: list = field(default_factory=list)

    def links(self, records):
        return self.linked

    def citizens_lock(self, account_ids):
        self.locked.append(sorted(set(account_ids)))

    def known_external_ids(self, *, partner_id, external_ids):
        return self.stored & set(external_ids)

    def overlapping_trips(self, candidates, tolerance):
        return self.overlaps

    def usage(self, windows):
        return self.used

    def carries(self, owners):
        return self.carried

    def funding(self, now):
        return self.budgets


def decided(
    *records: Record, usage=None, carried=None, policy: Policy = POLICY, budgets=None, **reads
):
    """Run every rule in their one order (``rules.decide``), with the rows given."""
    outcome = rules.decide(
        list(records),
        CATALOGUE,
        policy,
        InMemory(used=usage or {}, carried=carried or {}, budgets=budgets or city(), **reads),
    )
    return outcome.usage, outcome.credit


def test_a_ride_is_quantified_half_even_and_credited_with_its_carry():
    record = ride("12.5")  # 12.5 × 46.7 = 583.75 g → 584
    _added, credit = decided(record, carried={100: 7})

    assert (record.state, record.reduction_g, record.credited_g) == ("credited", 584, 584)
    assert record.points == 59 and credit.carries == {100: 1}  # (584 + 7) = 59 × 10 + 1
    assert record.explanation["conversion"] == {
        "grams_per_point": 10,
        "carried_in_g": 7,
        "carried_out_g": 1,
        "points": 59,
        "points_status": "available",
        "sponsor": "City",
        "budget_id": 1,
    }
    assert record.budget_id == 1 and dict(credit.points_by_budget) == {1: 59}


def test_without_a_link_a_record_is_held_and_after_the_window_it_expires():
    held, late = (
        ride(subject="nobody"),
        ride(subject="nobody", hold_until=NOW - timedelta(seconds=1)),
    )
    decided(held, late)

    assert (held.state, held.reason, held.hold_until) == (
        "unlinked",
        "not_linked",
        NOW + timedelta(days=30),
    )
    assert (late.state, late.reason) == ("expired", "link_window_passed")


def test_a_link_without_consent_for_the_scene_holds_the_record_and_says_why():
    links = {(7, "m-1"): LinkedMember(account_id=100, actions=frozenset({"bus_ride"}))}
    record = ride()
    rules.quantify([record], CATALOGUE)
    assert rules.screen([record], links, POLICY) == []
    assert (record.state, record.reason) == ("unlinked", "no_consent_for_action")


def test_implausible_records_are_rejected_before_caps():
    too_far, future = ride("81"), ride(hours_ago=-1)
    decided(too_far, future)

    assert (too_far.state, too_far.reason) == ("rejected", "quantity_implausible")
    assert (future.state, future.reason) == ("rejected", "occurred_in_future")


def test_the_daily_cap_counts_what_was_used_before_and_the_earlier_ride_first():
    day = NOW.date()
    later, earlier = ride("30", hours_ago=1), ride("30", hours_ago=3)
    added, _credit = decided(
        later, earlier, usage={(100, "metro_ride", day): 50_000_000}
    )  # 50 km before

    assert (earlier.counted_quantity, earlier.capped) == (Decimal(30), False)
    assert (later.counted_quantity, later.capped) == (Decimal(20), True)
    assert later.credited_g == 934 and later.reason == "capped"
    assert [r["code"] for r in later.explanation["rules"]] == ["daily_cap", "partly_counted"]
    assert added == {(100, "metro_ride", day): 50_000_000}


def test_a_monthly_cap_sums_the_days_of_the_month():
    monthly = Methodology(
        **{f.attname: getattr(METRO, f.attname) for f in Methodology._meta.concrete_fields}
    )
    monthly.daily_cap, monthly.monthly_cap = None, Decimal(40)
    record = ride("15")
    record.methodology, record.state, record.reduction_g = monthly, "quantified", 700
    record.account_id = 100
    usage = {
        (100, "metro_ride", NOW.date().replace(day=1)): 20_000_000,
        (100, "metro_ride", NOW.date() - timedelta(days=1)): 10_000_000,
    }

    assert rules.usage_windows([record], SHANGHAI) == {
        (100, "metro_ride", NOW.date().replace(day=1), NOW.date().replace(month=12, day=1))
    }
    rules.apply_caps([record], usage, SHANGHAI)
    assert record.counted_quantity == Decimal(10)


def test_a_trip_another_partner_reported_is_flagged_and_not_counted():
    first, second = ride(hours_ago=3), ride(hours_ago=1)
    added, _credit = decided(first, second, overlaps={1: [Overlap(9, "their-trip")]})

    assert (second.state, second.reason) == ("flagged", "possible_duplicate_trip")
    assert second.counted_quantity is None and sum(added.values()) == 10_000_000


def test_the_same_partners_overlapping_record_is_a_duplicate_only_when_a_claim_is_one_of_the_two():
    ours, claimed = Overlap(7, "our-other-trip"), Overlap(7, "claim-5", claim=True)
    plain, from_a_claim = ride(), ride(attributes={"claim_id": 5})

    assert rules.duplicate_of(plain, [ours]) is None
    assert rules.duplicate_of(plain, [ours, claimed]) == ("possible_duplicate_claim", claimed)
    assert rules.duplicate_of(from_a_claim, [ours]) == ("possible_duplicate_claim", ours)
    assert rules.duplicate_of(plain, [ours, Overlap(9, "theirs"), claimed]) == (
        "possible_duplicate_trip",
        Overlap(9, "theirs"),
    )


def test_an_operators_approval_skips_the_duplicate_rule_and_nothing_else():
    approved = ride("90", review="approved")
    decided(approved, overlaps={0: [Overlap(9, "their-trip")]})

    assert (approved.state, approved.reason) == ("rejected", "quantity_implausible")
    again = ride(review="approved")
    decided(again, overlaps={0: [Overlap(9, "their-trip")]})
    assert again.state == "credited"


def test_a_resend_found_once_the_citizens_are_locked_is_left_out():
    sent_before, fresh = ride(hours_ago=3), ride(hours_ago=1)
    reads = InMemory(stored={sent_before.external_id})

    outcome = rules.decide([sent_before, fresh], CATALOGUE, POLICY, reads, new=True)

    assert outcome.resent == {sent_before.external_id} and reads.locked == [[100]]
    assert outcome.credit.records == [fresh] and sum(outcome.usage.values()) == 10_000_000


def test_settling_points_are_pending_until_the_period_ends():
    policy = Policy(**{**POLICY.__dict__, "settling": timedelta(days=7)})
    record = ride("10")
    _added, credit = decided(record, policy=policy)

    assert (record.points, record.points_settled) == (46, False)
    assert record.points_available_at == NOW + timedelta(days=7)
    assert dict(credit.points_by_owner) == {(100, True): 46}


def test_the_batch_transaction_balances_and_names_its_actions():
    a, b = ride("10", hours_ago=3), ride("20", hours_ago=1)
    _added, credit = decided(a, b)
    a.id, b.id = 11, 12
    accounts = {key: _Account(key) for key in [*credit.account_keys(), *earn_ledger.SOURCES]}
    assert budget_ledger.BUDGET.of(1) in credit.account_keys()

    spec = postings.credit_transaction(credit, accounts)

    by_account = {leg.account.key: leg.amount for leg in spec.legs}
    assert by_account[citizen_ledger.REDUCTION.of(100)] == 1401
    assert by_account[citizen_ledger.POINTS.of(100)] == 140
    assert (
        by_account[
            citizen_ledger.pool_account(
                methodology_code="metro_ride", vintage_year=2026, vintage_month=11
            )
        ]
        == 1401
    )
    assert by_account[earn_ledger.GRAMS_ISSUANCE] == by_account[earn_ledger.CLAIM_ISSUANCE] == -1401
    assert (
        by_account[budget_ledger.BUDGET.of(1)] == -140
        and earn_ledger.POINTS_ISSUANCE not in by_account
    )
    for unit in ("g", "pt"):
        assert sum(leg.amount for leg in spec.legs if leg.account.key.unit == unit) == 0
    assert spec.metadata == {"action_ids": [11, 12]} and spec.reference == "actions:11-12"


class _Account:
    def __init__(self, key: AccountKey):
        self.key, self.pk, self.unit = key, hash(key), key.unit


@given(
    grams=st.lists(st.integers(min_value=0, max_value=50_000), min_size=1, max_size=30),
    carried_in=st.integers(min_value=0, max_value=9),
)
def test_no_gram_is_lost_to_rounding_however_rides_add_up(grams, carried_in):
    records = []
    for n, g in enumerate(grams):
        record = ride(hours_ago=1 + n / 100)
        record.state, record.account_id, record.credited_g, record.methodology = (
            "verified",
            100,
            g,
            METRO,
        )
        records.append(record)

    credit = rules.credit(records, {100: carried_in}, [TEN_G], Funding(city()), POLICY)

    carried_out = credit.carries.get(100, carried_in)
    assert sum(r.points for r in records) * 10 + carried_out == sum(grams) + carried_in
    assert 0 <= carried_out < 10
