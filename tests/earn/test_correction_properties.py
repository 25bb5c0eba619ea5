"""Property: credit, spend, reverse in any order; balances never go negative, the negative carry is
paid off by later credits, and the ledger stays balanced."""

import json
from datetime import timedelta

from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from accounts import ledger_accounts as citizen_ledger
from carbonpoints.earn.corrections import action_reverse
from carbonpoints.earn.exceptions import AlreadyReversed
from carbonpoints.earn.intake import candidate_from_json, events_ingest
from carbonpoints.earn.models import ActionRecord, ActionState, Batch, CitizenCarry
from carbonpoints.earn.services import identity_link_create, partner_create
from carbonpoints.ledger.models import LedgerAccount
from carbonpoints.ledger.selectors import ledger_check
from carbonpoints.ledger.services import Leg, ledger_account_get_or_create, transaction_post
from carbonpoints.methodologies.models import ConversionRule
from tests.factories import CitizenFactory, UserFactory

ride = st.tuples(st.just("ride"), st.integers(1, 40))
spend = st.tuples(st.just("spend"), st.integers(1, 200))
reverse = st.tuples(st.just("reverse"), st.integers(0, 20))


def balance(kind, owner_id: int) -> int:
    account = LedgerAccount.objects.filter(kind=kind.kind, owner_id=owner_id, unit=kind.unit).first()
    return account.balance if account else 0


class CorrectionProperties(TestCase):
    @settings(max_examples=25, deadline=None)
    @given(st.lists(st.one_of(ride, spend, reverse), min_size=1, max_size=12))
    def test_any_mix_of_credits_spends_and_reversals_keeps_the_books(self, steps):
        partner, _key, _secret = partner_create(name="Metro", actions=["metro_ride"])
        citizen = CitizenFactory()
        owner = citizen.carbon_account.pk
        identity_link_create(account=citizen.carbon_account, partner=partner, subject="m", scenes=None, wording="ok")
        operator = UserFactory(role="operator", is_staff=True)
        gpp = ConversionRule.objects.order_by("-valid_from").first().grams_per_point
        sink = ledger_account_get_or_create(kind="test_shop", unit="pt")
        start = timezone.now() - timedelta(days=1)
        for n, (step, amount) in enumerate(steps):
            if step == "ride":
                raw = json.dumps({"external_id": f"r{n}", "subject": "m", "action": "metro_ride", "quantity": amount,
                                  "unit": "km", "occurred_at": (start + timedelta(minutes=n)).isoformat()}).encode()
                events_ingest(partner=partner, batch=Batch.objects.create(partner=partner),
                              candidates=[candidate_from_json(raw)])
            elif step == "spend":
                wallet = ledger_account_get_or_create(kind=citizen_ledger.POINTS.kind, unit="pt", owner_id=owner)
                spent = min(amount, wallet.balance)
                if spent:
                    transaction_post(kind="test_spend", legs=[Leg(wallet, -spent), Leg(sink, spent)])
            else:
                records = list(ActionRecord.objects.filter(account_id=owner).order_by("id"))
                if records:
                    try:
                        action_reverse(record=records[amount % len(records)], operator=operator, reason="test")
                    except AlreadyReversed:
                        pass
            credited = ActionRecord.objects.filter(account_id=owner, state=ActionState.CREDITED)
            earned_g = sum(r.credited_g for r in credited)
            carry = CitizenCarry.objects.filter(account_id=owner).values_list("remainder_g", flat=True).first() or 0
            points_net = (balance(citizen_ledger.POINTS, owner) + balance(citizen_ledger.POINTS_PENDING, owner)
                          + LedgerAccount.objects.get(pk=sink.pk).balance)  # held, pending or spent
            assert balance(citizen_ledger.REDUCTION, owner) == earned_g
            assert balance(citizen_ledger.POINTS, owner) >= 0
            # every gram earned is in points or in the carry; what reversals could not take back is owed
            assert carry + gpp * points_net == earned_g
            assert carry < gpp, "whole points are never left in the carry"
            if carry < 0:  # a debt: no points are earned (or left) until later credits have paid it off
                assert balance(citizen_ledger.POINTS, owner) == 0
        assert ledger_check().ok
