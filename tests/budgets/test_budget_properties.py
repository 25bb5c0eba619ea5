"""Property: credits, deposits, funding runs and reversals in any order; a budget never goes below
zero, every point a citizen holds was drawn on it, and the ledger stays balanced."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from accounts import ledger_accounts as citizen_ledger
from carbonpoints.budgets import ledger_accounts as budget_ledger
from carbonpoints.budgets.services import budget_deposit
from carbonpoints.earn.corrections import action_reverse
from carbonpoints.earn.exceptions import AlreadyReversed
from carbonpoints.earn.intake import candidate_from_json, events_ingest
from carbonpoints.earn.models import ActionRecord, ActionState, Batch
from carbonpoints.earn.pipeline import credits_fund
from carbonpoints.earn.services import identity_link_create, partner_create
from carbonpoints.ledger.models import LedgerAccount
from carbonpoints.ledger.selectors import ledger_check
from tests.factories import BudgetFactory, CitizenFactory, UserFactory

ride = st.tuples(st.just("ride"), st.integers(1, 30))
deposit = st.tuples(st.just("deposit"), st.integers(1, 300))
fund = st.tuples(st.just("fund"), st.just(0))
reverse = st.tuples(st.just("reverse"), st.integers(0, 20))


def balance(kind: str, owner_id: int) -> int:
    return LedgerAccount.objects.filter(kind=kind, owner_id=owner_id).values_list("balance", flat=True).first() or 0


@pytest.mark.unfunded
class BudgetProperties(TestCase):
    @settings(max_examples=20, deadline=None)
    @given(st.lists(st.one_of(ride, deposit, fund, reverse), min_size=1, max_size=12),
           st.sampled_from(["scale", "pending"]))
    def test_any_mix_of_credits_deposits_and_reversals_never_issues_an_unfunded_point(self, steps, throttle):
        partner, _key, _secret = partner_create(name="Metro", actions=["metro_ride"])
        citizen = CitizenFactory()
        owner = citizen.carbon_account.pk
        identity_link_create(account=citizen.carbon_account, partner=partner, subject="m", scenes=None, wording="ok")
        operator = UserFactory(role="operator", is_staff=True)
        budget = BudgetFactory(throttle=throttle, warn_below_percent=50, throttle_below_percent=30)
        deposited = 0
        start = timezone.now() - timedelta(days=1)
        for n, (step, amount) in enumerate(steps):
            if step == "ride":
                raw = json.dumps({"external_id": f"r{n}", "subject": "m", "action": "metro_ride", "quantity": amount,
                                  "unit": "km", "occurred_at": (start + timedelta(minutes=n)).isoformat()}).encode()
                events_ingest(partner=partner, batch=Batch.objects.create(partner=partner),
                              candidates=[candidate_from_json(raw)])
            elif step == "deposit":
                budget_deposit(budget=budget, points=amount, yuan_fen=amount, operator=operator)
                deposited += amount
            elif step == "fund":
                credits_fund()
            else:
                records = list(ActionRecord.objects.filter(account_id=owner).order_by("id"))
                if records:
                    try:
                        action_reverse(record=records[amount % len(records)], operator=operator, reason="test")
                    except AlreadyReversed:
                        pass
            left = balance(budget_ledger.BUDGET.kind, budget.pk)
            held = balance(citizen_ledger.POINTS.kind, owner) + balance(citizen_ledger.POINTS_PENDING.kind, owner)
            assert left >= 0
            assert deposited == left + held, "every point held was drawn on the budget; reversals gave theirs back"
            owed = ActionRecord.objects.filter(account_id=owner, state=ActionState.CREDITED, budget__isnull=True,
                                               points__gt=0)
            assert all(r.points_available_at is None and not r.points_settled for r in owed), "owed, not issued"
        assert ledger_check().ok
