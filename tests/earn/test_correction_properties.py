"""Property: credit, spend, reverse and the accrual job in any order; balances never go negative,
the negative carry is paid off by later credits, and the ledger stays balanced."""

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from accounts import ledger_accounts as citizen_ledger
from accounts.services import accrual_post
from carbonpoints.earn.models import ActionRecord, ActionState, CitizenCarry
from carbonpoints.ledger.models import LedgerAccount
from carbonpoints.ledger.selectors import ledger_check
from carbonpoints.ledger.services import Leg, ledger_account_get_or_create, transaction_post
from carbonpoints.methodologies.models import ConversionRule
from tests.factories import accruals_posted

from .factories import MetroMember

ride = st.tuples(st.just("ride"), st.integers(1, 40))
spend = st.tuples(st.just("spend"), st.integers(1, 200))
reverse = st.tuples(st.just("reverse"), st.integers(0, 20))
post = st.tuples(st.just("post"), st.just(0))  # the accrual job's run


class CorrectionProperties(TestCase):
    @settings(max_examples=25, deadline=None)
    @given(st.lists(st.one_of(ride, spend, reverse, post), min_size=1, max_size=12))
    def test_any_mix_of_credits_spends_and_reversals_keeps_the_books(self, steps):
        member = MetroMember.open()
        owner = member.owner
        gpp = ConversionRule.objects.order_by("-valid_from").first().grams_per_point
        sink = ledger_account_get_or_create(kind="test_shop", unit="pt")
        for n, (step, amount) in enumerate(steps):
            if step == "ride":
                member.ride(n, amount)
            elif step == "post":
                accruals_posted()
            elif step == "spend":
                accrual_post(owner=owner)  # as every spend does first
                wallet = ledger_account_get_or_create(
                    kind=citizen_ledger.POINTS.kind, unit="pt", owner_id=owner
                )
                spent = min(amount, wallet.balance)
                if spent:
                    transaction_post(
                        kind="test_spend", legs=[Leg(wallet, -spent), Leg(sink, spent)]
                    )
            else:
                member.reverse(amount)
            credited = ActionRecord.objects.filter(account_id=owner, state=ActionState.CREDITED)
            earned_g = sum(r.credited_g for r in credited)
            carry = (
                CitizenCarry.objects.filter(account_id=owner)
                .values_list("remainder_g", flat=True)
                .first()
                or 0
            )
            holds = member.holds()
            points_net = (
                holds["available"]
                + holds["pending"]
                + LedgerAccount.objects.get(pk=sink.pk).balance
            )  # held, pending or spent
            assert holds["reduction_g"] == earned_g
            assert holds["available"] >= 0
            # every gram earned is in points or in the carry; what reversals could not take back is owed
            assert carry + gpp * points_net == earned_g
            assert carry < gpp, "whole points are never left in the carry"
            if (
                carry < 0
            ):  # a debt: no points are earned (or left) until later credits have paid it off
                assert holds["available"] == 0
        assert ledger_check().ok
