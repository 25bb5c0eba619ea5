"""Periodic and after-commit work of the spend side: thin, idempotent, taking ids."""

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from .models import Redemption, Voucher
from .offsets import pool_unitize_all
from .services import (
    clearing_post,
    redemption_refund_cancelled,
    settlements_run,
    stock_gate_reconcile,
    voucher_expire,
)


@shared_task(name="redemption.expire_vouchers")
def expire_vouchers() -> int:
    """Refund every unconsumed voucher past its expiry (a new ledger transaction each)."""
    due = Voucher.objects.filter(
        expires_at__lte=timezone.now(),
        consumed_at__isnull=True,
        expired_at__isnull=True,
        redemption__status=Redemption.Status.ISSUED,
    ).values_list("pk", flat=True)
    return sum(voucher_expire(voucher_id=pk) for pk in list(due))


@shared_task(name="redemption.refund_cancelled_scenario")
def refund_cancelled_scenario(scenario_id: int) -> int:
    issued = Redemption.objects.filter(scenario_id=scenario_id, status=Redemption.Status.ISSUED)
    return sum(
        redemption_refund_cancelled(redemption_id=pk)
        for pk in list(issued.values_list("pk", flat=True))
    )


@shared_task(name="redemption.reconcile_stock_gates")
def reconcile_stock_gates(scenario_id: int | None = None) -> int:
    """Re-derive the stock gates in Redis from the database (after a Redis loss; beat, often)."""
    return stock_gate_reconcile(scenario_id=scenario_id)


@shared_task(name="redemption.settle_day")
def settle_day(day: str | None = None) -> int:
    """Settle one local day (yesterday by default); re-running a day changes nothing."""
    settle = date.fromisoformat(day) if day else timezone.localdate() - timedelta(days=1)
    return settlements_run(day=settle)


@shared_task(name="redemption.settle_recent_days")
def settle_recent_days(days: int = 7) -> int:
    """Beat's nightly run: the last ``days`` days, oldest first, so a night the worker missed is
    caught up under its own date."""
    today = timezone.localdate()
    return sum(settlements_run(day=today - timedelta(days=n)) for n in range(days, 0, -1))


@shared_task(name="redemption.unitize_pool")
def unitize_pool() -> int:
    return pool_unitize_all()


@shared_task(name="redemption.post_clearing")
def post_clearing() -> int:
    """Beat's nightly run (after the settlements): the clearing between regions of every spend not
    cleared yet, and the reversal of refunded ones; re-running posts nothing twice."""
    return clearing_post()
