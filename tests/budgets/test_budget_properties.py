"""Property: credits, deposits, funding runs, reversals and the accrual job in any order; a budget never goes below
zero, every point a citizen holds was drawn on it, and the ledger stays balanced."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from carbonpoints.budgets import ledger_accounts as budget_ledger
from carbonpoints.budgets.services import budget_deposit
from carbonpoints.earn.models import ActionRecord, ActionState
from carbonpoints.earn.pipeline import credits_fund
from carbonpoints.ledger.models import LedgerAccount
from carbonpoints.ledger.selectors import ledger_check
from tests.earn.factories import MetroMember
from tests.factories import BudgetFactory, accruals_posted

ride = st.tuples(st.just("ride"), st.integers(1, 30))
deposit = st.tuples(st.just("deposit"), st.integers(1, 300))
fund = st.tuples(st.just("fund"), st.just(0))
reverse = st.tuples(st.just("reverse"), st.integers(0, 20))
post = st.tuples(st.just("post"), st.just(0))  # the accrual job's run


def balance(kind: str, owner_id: int) -> int:
    return (
        LedgerAccount.objects.filter(kind=kind, owner_id=owner_id)
        .values_list("balance", flat=True)
        .first()
        or 0
    )


@pytest.mark.unfunded
class BudgetProperties(TestCase):
    @settings(max_examples=20, deadline=None)
    @given(
        st.lists(st.one_of(ride, deposit, fund, reverse, post), min_size=1, max_size=12),
        st.sampled_from(["scale", "pending"]),
    )
    def test_any_mix_of_credits_deposits_and_reversals_never_issues_an_unfunded_point(
        self, steps, throttle
    ):
        member = MetroMember.open()
        owner = member.owner
        budget = BudgetFactory(throttle=throttle, warn_below_percent=50, throttle_below_percent=30)
        deposited = 0
        for n, (step, amount) in enumerate(steps):
            if step == "ride":
                member.ride(n, amount)
            elif step == "deposit":
                budget_deposit(
                    budget=budget, points=amount, yuan_fen=amount, operator=member.operator
                )
                deposited += amount
            elif step == "fund":
                credits_fund()
            elif step == "post":
                accruals_posted()
            else:
                member.reverse(amount)
            left = balance(budget_ledger.BUDGET.kind, budget.pk)
            holds = member.holds()
            held = holds["available"] + holds["pending"]
            assert left >= 0
            assert deposited == left + held, (
                "every point held was drawn on the budget; reversals gave theirs back"
            )
            owed = ActionRecord.objects.filter(
                account_id=owner, state=ActionState.CREDITED, budget__isnull=True, points__gt=0
            )
            assert all(r.points_available_at is None and not r.points_settled for r in owed), (
                "owed, not issued"
            )
        assert ledger_check().ok
