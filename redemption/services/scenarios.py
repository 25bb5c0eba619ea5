"""Writes of scenarios (what points buy at a merchant): their life, limits per citizen and stock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from carbonpoints.audit.services import audit_record
from carbonpoints.enqueue import task_enqueue_on_commit
from carbonpoints.regions import codes
from carbonpoints.regions.authority import authority_check

from .. import exceptions as refusals
from ..models import Merchant, Scenario
from ._common import _local_day_bounds
from .stock_gate import stock_gate_give_back_on_commit


def _scenario_check(scenario: Scenario) -> None:
    errors = {}
    if scenario.kind in (Scenario.Kind.VOUCHER, Scenario.Kind.DONATION):
        if not scenario.points_cost:
            errors["points_cost"] = _("A voucher or donation scenario needs a points cost.")
    if scenario.kind == Scenario.Kind.POINTS_OFFSET:
        if not scenario.points_per_yuan:
            errors["points_per_yuan"] = _("Say how many points make one yuan.")
        if not scenario.max_share_bp:
            errors["max_share"] = _("Say which share of a price points may pay (0 < share ≤ 1).")
    if scenario.valid_until and scenario.valid_until <= scenario.valid_from:
        errors["valid_until"] = _("The end must come after the start.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def scenario_create(
    *,
    merchant: Merchant,
    kind: str,
    title: str,
    description: str = "",
    points_cost: int | None = None,
    points_per_yuan: int | None = None,
    max_share_bp: int | None = None,
    stock: int | None = None,
    per_citizen_limit: int | None = None,
    per_citizen_daily_limit: int | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    voucher_valid_days: int = 30,
    actor: User | None = None,
    province_wide: bool = False,
) -> Scenario:
    """A new scenario: live at once, or waiting for an operator when review is switched on.

    ``province_wide``: offered to the citizens of every city of the province, not only in its
    merchant's region. A city's merchant asks for it, and the scenario waits for an operator of
    the province to approve it, whether review is switched on or not (it is offered beyond the
    merchant's city, whose operator alone does not decide that).

    Created by a manager (``actor``): recorded in the audit trail."""
    review = settings.REDEMPTION_SCENARIO_REVIEW or (
        province_wide and codes.parent_of(merchant.region_id or codes.default()) is not None
    )
    scenario = Scenario(
        merchant=merchant,
        kind=kind,
        title=title,
        description=description,
        points_cost=points_cost,
        points_per_yuan=points_per_yuan,
        max_share_bp=max_share_bp,
        stock=stock,
        stock_left=stock,
        per_citizen_limit=per_citizen_limit,
        per_citizen_daily_limit=per_citizen_daily_limit,
        valid_from=valid_from or timezone.now(),
        valid_until=valid_until,
        voucher_valid_days=voucher_valid_days,
        province_wide=province_wide,
        status=Scenario.Status.PENDING_REVIEW if review else Scenario.Status.LIVE,
    )
    scenario.full_clean()
    _scenario_check(scenario)
    scenario.save()
    if actor is not None:
        audit_record(
            actor=actor,
            action="merchant.scenario_create",
            obj=scenario,
            details={
                "merchant_id": merchant.pk,
                "kind": kind,
                "status": scenario.status,
                **({"province_wide": True} if province_wide else {}),
            },
        )
    return scenario


_TRANSITIONS = {
    "pause": ({Scenario.Status.LIVE}, Scenario.Status.PAUSED),
    "resume": ({Scenario.Status.PAUSED}, Scenario.Status.LIVE),
    "approve": ({Scenario.Status.PENDING_REVIEW, Scenario.Status.REJECTED}, Scenario.Status.LIVE),
    "reject": ({Scenario.Status.PENDING_REVIEW}, Scenario.Status.REJECTED),
    "cancel": (
        {Scenario.Status.LIVE, Scenario.Status.PAUSED, Scenario.Status.PENDING_REVIEW},
        Scenario.Status.CANCELLED,
    ),
}


def scenario_transition(*, scenario: Scenario, action: str, actor: User | None = None) -> Scenario:
    """Pause, resume, cancel (merchant) or approve, reject (operator), as a compare-and-set.

    Cancelling refunds every voucher not yet consumed, in a task after the commit. A manager's
    change (``actor``) is recorded in the audit trail (the admin records the operators').
    """
    allowed, target = _TRANSITIONS[action]
    if actor is not None and actor.is_staff:  # an operator: of the merchant's region
        region = scenario.merchant.region_id
        authority_check(actor, region)
        if action == "approve" and scenario.province_wide:  # offered in every city of it
            authority_check(actor, codes.province_of(region))
    with transaction.atomic():
        changed = Scenario.objects.filter(pk=scenario.pk, status__in=allowed).update(status=target)
        if not changed:
            raise refusals.ScenarioStateConflict(action=action, status=scenario.status)
        if target == Scenario.Status.CANCELLED:
            task_enqueue_on_commit("redemption.refund_cancelled_scenario", scenario.pk)
        if actor is not None:
            audit_record(
                actor=actor,
                action=f"merchant.scenario_{action}",
                obj=scenario,
                details={
                    "merchant_id": scenario.merchant_id,
                    "from": scenario.status,
                    "to": target,
                },
            )
    scenario.refresh_from_db()
    return scenario


def scenario_is_open(scenario: Scenario, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        scenario.status == Scenario.Status.LIVE
        and scenario.merchant.status == Merchant.Status.APPROVED
        and scenario.valid_from <= now
        and (scenario.valid_until is None or scenario.valid_until > now)
    )


def _check_limits(*, scenario: Scenario, used: QuerySet[Any]) -> None:
    """``used`` is the citizen's non-refunded uses of the scenario (a queryset with created_at).

    Both limits are counted by one query; the caller holds the citizen's lock.
    """
    total, daily = scenario.per_citizen_limit, scenario.per_citizen_daily_limit
    if total is None and daily is None:
        return
    start, end = _local_day_bounds(timezone.localdate())
    counts = used.aggregate(
        total=Count("pk"), today=Count("pk", filter=Q(created_at__gte=start, created_at__lt=end))
    )
    if total is not None and counts["total"] >= total:
        raise refusals.LimitReached(limit=total, period="total")
    if daily is not None and counts["today"] >= daily:
        raise refusals.LimitReached(limit=daily, period="day")


def _has_limits(scenario: Scenario) -> bool:
    return scenario.per_citizen_limit is not None or scenario.per_citizen_daily_limit is not None


def _take_stock(scenario: Scenario) -> None:
    """One unit of stock, or ``out_of_stock``: a conditional UPDATE, so it never oversells.

    Callers take it as their last write, after the citizen's points are reserved by the
    ledger: the scenario's stock row is the one every buyer of a flash sale shares, and a row
    changed by an UPDATE stays locked until the commit. Taken last, it is held for one
    statement and the commit, instead of for the whole spend. When the stock is gone the
    refusal rolls the reserved points back with the rest of the attempt.
    """
    if scenario.stock is None:
        return
    if not Scenario.objects.filter(pk=scenario.pk, stock_left__gt=0).update(
        stock_left=F("stock_left") - 1
    ):
        raise refusals.OutOfStock()


def _return_stock(scenario: Scenario) -> None:
    if scenario.stock is not None:
        Scenario.objects.filter(pk=scenario.pk).update(stock_left=F("stock_left") + 1)
        stock_gate_give_back_on_commit(scenario_id=scenario.pk)
