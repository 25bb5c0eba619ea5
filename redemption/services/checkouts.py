"""Writes of checkouts: points taken as part-payment at the till, and reversed."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import CarbonAccount
from carbonpoints.audit.services import audit_record
from carbonpoints.ledger.services import transaction_reverse

from .. import exceptions as refusals
from ..ledger_accounts import MERCHANT_POINTS
from ..models import Checkout, MerchantStaff, Scenario, SettlementLine
from ._common import _lock, _spend
from .payment_codes import _payment_code_use
from .scenarios import _check_limits, _has_limits, _return_stock, _take_stock, scenario_is_open


def checkout_quote(*, scenario: Scenario, amount_fen: int, points: int) -> tuple[int, int]:
    """``(points_used, discount_fen)``: points pay at most ``max_share`` of the price, whole fen only.

    The citizen is never charged for a fraction of a fen: the points used are the fewest that
    buy the discount.
    """
    ppy, share = scenario.points_per_yuan, scenario.max_share_bp
    assert ppy and share is not None  # a points_offset scenario has both (model check)
    max_discount = amount_fen * share // 10_000
    discount = min(points * 100 // ppy, max_discount)
    points_used = -(-discount * ppy // 100)
    return points_used, discount


def checkout_create(
    *,
    staff: MerchantStaff,
    payment_code: str,
    amount_fen: int,
    points: int,
    scenario_id: int | None = None,
) -> Checkout:
    """Take the citizen's points as part-payment of an order, recorded for settlement."""
    scenarios = Scenario.objects.select_related("merchant").filter(
        merchant_id=staff.merchant_id, kind=Scenario.Kind.POINTS_OFFSET
    )
    scenario = (
        scenarios.filter(pk=scenario_id)
        if scenario_id
        else scenarios.filter(status=Scenario.Status.LIVE)
    ).first()
    if scenario is None or not scenario_is_open(scenario):
        raise refusals.ScenarioUnavailable(reason="no open points_offset scenario")
    with transaction.atomic():  # a refusal rolls back the code's use with the rest
        used = _payment_code_use(payment_code.strip())
        if used is None:
            raise refusals.PaymentCodeInvalid()
        code_id, citizen_id = used
        points_used, discount = checkout_quote(
            scenario=scenario, amount_fen=amount_fen, points=points
        )
        if points_used <= 0:
            raise refusals.NothingToOffset(max_share_bp=scenario.max_share_bp)
        if _has_limits(scenario):
            _lock(CarbonAccount.objects.filter(pk=citizen_id))
            used_before = Checkout.objects.filter(
                citizen_id=citizen_id, scenario=scenario, status=Checkout.Status.PAID
            )
            _check_limits(scenario=scenario, used=used_before)
        spend_tx = _spend(
            citizen_id=citizen_id,
            to=MERCHANT_POINTS,
            owner_id=staff.merchant_id,
            points=points_used,
            kind="checkout",
            key=f"checkout:{code_id}",
            reference=f"scenario:{scenario.pk}",
        )
        checkout = Checkout.objects.create(
            merchant_id=staff.merchant_id,
            scenario=scenario,
            citizen_id=citizen_id,
            cashier_id=staff.user_id,
            amount_fen=amount_fen,
            points_used=points_used,
            discount_fen=discount,
            spend_tx=spend_tx,
        )
        _take_stock(scenario)  # last, as for a redemption
        return checkout


def checkout_reverse(*, staff: MerchantStaff, checkout_id: int) -> Checkout:
    """Undo a checkout within the reversal window: the points go back in a new transaction."""
    with transaction.atomic():
        checkout = (
            Checkout.objects.select_for_update(of=("self",))
            .select_related("scenario")
            .filter(pk=checkout_id, merchant_id=staff.merchant_id)
            .first()
        )
        if checkout is None:
            raise refusals.CheckoutNotFound()
        if checkout.status == Checkout.Status.REVERSED:
            raise refusals.CheckoutAlreadyReversed()
        if SettlementLine.objects.filter(spend_tx_id=checkout.spend_tx_id).exists():
            raise refusals.CheckoutSettled()
        window = timedelta(minutes=settings.REDEMPTION_CHECKOUT_REVERSAL_MINUTES)
        if checkout.created_at + window < timezone.now():
            raise refusals.ReversalWindowClosed(
                window_minutes=settings.REDEMPTION_CHECKOUT_REVERSAL_MINUTES
            )
        checkout.refund_tx = transaction_reverse(
            original=checkout.spend_tx,
            idempotency_key=f"refund:checkout:{checkout.pk}",
            memo="checkout reversed",
        )
        checkout.status = Checkout.Status.REVERSED
        checkout.reversed_at = timezone.now()
        checkout.save(update_fields=["refund_tx", "status", "reversed_at"])
        _return_stock(checkout.scenario)  # ledger accounts before the scenario row, as when paying
        audit_record(
            actor=staff.user,
            action="merchant.checkout_reverse",
            obj=checkout,
            details={"merchant_id": staff.merchant_id, "points": checkout.points_used},
        )
    return checkout
