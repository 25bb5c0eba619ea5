"""Property test: whatever merchants take, refund and settle, in any order, the ledger stays
balanced, every point a merchant took is either still held (unsettled) or settled, and a
statement's points are exactly what left the merchant's receiving accounts."""

from datetime import timedelta

from django.db.models import Sum
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from carbonpoints.ledger.models import LedgerAccount
from carbonpoints.ledger.selectors import ledger_check
from redemption import services
from redemption.exceptions import SpendRefused
from redemption.ledger_accounts import MERCHANT_SETTLED
from redemption.models import Checkout, Redemption, Settlement
from redemption.selectors import merchant_points_unsettled
from tests.factories import CitizenFactory

from .factories import CashierFactory, PointsOffsetScenarioFactory, ScenarioFactory, give_points

operation = st.one_of(
    st.tuples(st.just("redeem"), st.integers(0, 1)),
    st.tuples(st.just("consume"), st.integers(0, 5)),
    st.tuples(st.just("checkout"), st.integers(0, 1), st.integers(1, 400)),
    st.tuples(st.just("reverse"), st.integers(0, 5)),
    st.tuples(st.just("expire"), st.integers(0, 5)),
    st.tuples(st.just("settle")),
)


class SettlementProperties(TestCase):
    @settings(max_examples=20, deadline=None)
    @given(st.lists(operation, min_size=1, max_size=14))
    def test_taken_points_are_held_or_settled_and_the_ledger_balances(self, operations):
        cashier = CashierFactory()
        merchant = cashier.merchant
        vouchers = ScenarioFactory(merchant=merchant, points_cost=150)
        PointsOffsetScenarioFactory(merchant=merchant, points_per_yuan=100, max_share_bp=5000)
        citizens = [CitizenFactory() for _ in range(2)]
        for citizen in citizens:
            give_points(citizen, 2_000)
        redemptions: list[Redemption] = []
        checkouts: list[Checkout] = []
        day = timezone.localdate()
        for n, (kind, *args) in enumerate(operations):
            try:
                if kind == "redeem":
                    redemptions.append(
                        services.redemption_create(
                            citizen=citizens[args[0]].carbon_account,
                            scenario_id=vouchers.pk,
                            idempotency_key=f"k{n}",
                        )
                    )
                elif kind == "consume" and args[0] < len(redemptions):
                    services.voucher_consume(staff=cashier, code=redemptions[args[0]].voucher.code)
                elif kind == "expire" and args[0] < len(redemptions):
                    voucher = redemptions[args[0]].voucher
                    voucher.refresh_from_db()
                    if voucher.consumed_at is None:
                        voucher.expires_at = timezone.now() - timedelta(seconds=1)
                        voucher.save(update_fields=["expires_at"])
                        services.voucher_expire(voucher_id=voucher.pk)
                elif kind == "checkout":
                    code = services.payment_code_issue(citizen=citizens[args[0]].carbon_account)
                    checkouts.append(
                        services.checkout_create(
                            staff=cashier, payment_code=code.code, amount_fen=1_000, points=args[1]
                        )
                    )
                elif kind == "reverse" and args[0] < len(checkouts):
                    services.checkout_reverse(staff=cashier, checkout_id=checkouts[args[0]].pk)
                elif kind == "settle":
                    services.settlement_make(merchant=merchant, day=day)
                    day += timedelta(
                        days=1
                    )  # a day's statement is final: the next settles the next day
            except SpendRefused:
                pass  # not enough points, already reversed or settled, consumed: refusals change nothing

            report = ledger_check()
            assert report.ok, report.problems
            taken = (
                Redemption.objects.filter(scenario__merchant=merchant)
                .exclude(status=Redemption.Status.REFUNDED)
                .aggregate(s=Sum("points_spent"))["s"]
                or 0
            ) + (
                Checkout.objects.filter(merchant=merchant, status=Checkout.Status.PAID).aggregate(
                    s=Sum("points_used")
                )["s"]
                or 0
            )
            settled = LedgerAccount.objects.filter(
                kind=MERCHANT_SETTLED[0], owner_id=merchant.pk
            ).first()
            settled_points = settled.balance if settled else 0
            assert merchant_points_unsettled(merchant_id=merchant.pk) + settled_points == taken
            assert settled_points == (
                Settlement.objects.filter(merchant=merchant).aggregate(s=Sum("points_total"))["s"]
                or 0
            )
            issued = (
                Redemption.objects.filter(
                    scenario__merchant=merchant, status=Redemption.Status.ISSUED
                ).aggregate(s=Sum("points_spent"))["s"]
                or 0
            )
            assert (
                merchant_points_unsettled(merchant_id=merchant.pk) >= issued
            )  # held vouchers stay refundable
