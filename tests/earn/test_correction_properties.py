"""Property: credit, spend, reverse in any order; balances never go negative, the negative carry is
paid off by later credits, and the ledger stays balanced."""

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from accounts import ledger_accounts as citizen_ledger
from carbonpoints.earn.models import ActionRecord, ActionState, CitizenCarry
from carbonpoints.ledger.models import LedgerAccount
from carbonpoints.ledger.selectors import ledger_check
from carbonpoints.ledger.services import Leg, ledger_account_get_or_create, transaction_post
from carbonpoints.methodologies.models import ConversionRule

from .factories import MetroMember

ride = st.tuples(st.just("ride"), st.integers(1, 40))
spend = st.tuples(st.just("spend"), st.integers(1, 200))
reverse = st.tuples(st.just("reverse"), st.integers(0, 20))


def balance(kind, owner_id: int) -> int:
    account = LedgerAccount.objects.filter(
        kind=kind.kind, owner_id=owner_id, unit=kind.unit
    ).first()
    return account.balance if account else 0


class CorrectionProperties(TestCase):
    @settings(max_examples=25, deadline=None)
    @given(st.lists(st.one_of(ride, spend, reverse), min_size=1, max_size=12))
    def test_any_mix_of_credits_spends_and_reversals_keeps_the_books(self, steps):
        member = MetroMember.open()
        owner = member.owner
        gpp = ConversionRule.objects.order_by("-valid_from").first().grams_per_point
        sink = ledger_account_get_or_create(kind="test_shop", unit="pt")
        for n, (step, amount) in enumerate(steps):
            if step == "ride":
                member.ride(n, amount)
            elif step == "spend":
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
            points_net = (
                balance(citizen_ledger.POINTS, owner)
                + balance(citizen_ledger.POINTS_PENDING, owner)
                + LedgerAccount.objects.get(pk=sink.pk).balance
            )  # held, pending or spent
            assert balance(citizen_ledger.REDUCTION, owner) == earned_g
            assert balance(citizen_ledger.POINTS, owner) >= 0
            # every gram earned is in points or in the carry; what reversals could not take back is owed
            assert carry + gpp * points_net == earned_g
            assert carry < gpp, "whole points are never left in the carry"
            if (
                carry < 0
            ):  # a debt: no points are earned (or left) until later credits have paid it off
                assert balance(citizen_ledger.POINTS, owner) == 0
        assert ledger_check().ok
