"""Writes of budgets: deposits, the hourly watch (readings, alerts), and the expiry of unused points."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.mail import mail_managers
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import ledger_accounts as citizen_ledger
from accounts.models import Accrual
from carbonpoints.audit.services import audit_record
from carbonpoints.enqueue import task_enqueue_on_commit
from carbonpoints.ledger.models import LedgerAccount, Posting
from carbonpoints.ledger.services import (
    Leg,
    TransactionSpec,
    ledger_accounts_get_or_create,
    transaction_post,
    transaction_post_many,
)
from carbonpoints.notifications.models import Notification
from carbonpoints.regions.authority import authority_check

from . import ledger_accounts as budget_ledger
from .exceptions import DepositInvalid
from .models import Alert, Budget, BudgetLevel, Deposit, Reading
from .selectors import budget_rows, general_budget

log = logging.getLogger(__name__)

MAX_DEPOSIT_POINTS = 10**12


_accrued = Accrual.objects.filter(owner_id=OuterRef("owner_id"))
"""A citizen's unposted accrual (``accounts.models.Accrual``): points added to, so not idle."""


def budget_deposit(
    *, budget: Budget, points: int, yuan_fen: int, operator: AbstractBaseUser | None, note: str = ""
) -> Deposit:
    """A sponsor pays ``yuan_fen`` for ``points`` into ``budget``: posted to the ledger, audited.

    Credits that waited for funding are funded after commit.
    """
    if operator is not None:
        authority_check(operator, budget.region_id)  # a city's operator: their city's budgets
    if not 0 < points <= MAX_DEPOSIT_POINTS:
        raise DepositInvalid(_("Deposit between 1 and 10¹² points."), field="points")
    if not 0 <= yuan_fen <= MAX_DEPOSIT_POINTS * 100:
        raise DepositInvalid(_("The money paid cannot be negative."), field="yuan_fen")
    with transaction.atomic():
        budget = Budget.objects.select_for_update().get(
            pk=budget.pk
        )  # deposits are numbered in turn
        refs = ledger_accounts_get_or_create(keys=[budget_ledger.BUDGET.of(budget.pk)])
        refs |= ledger_accounts_get_or_create(
            keys=[budget_ledger.DEPOSITS.of(budget.pk)], allow_negative=True
        )
        count = budget.deposits.count()
        posted = transaction_post(
            kind=budget_ledger.DEPOSIT_KIND,
            legs=[
                Leg(refs[budget_ledger.DEPOSITS.of(budget.pk)], -points),
                Leg(refs[budget_ledger.BUDGET.of(budget.pk)], points),
            ],
            idempotency_key=f"budget:{budget.pk}:deposit:{count + 1}",
            reference=f"budget:{budget.pk}",
            memo=f"{budget}: deposit"[:255],
            metadata={"yuan_fen": yuan_fen, "note": note},
        )
        deposit = Deposit.objects.create(
            budget=budget,
            points=points,
            yuan_fen=yuan_fen,
            note=note,
            made_by_id=operator.pk if operator is not None else None,
            ledger_transaction=posted,
        )
        _reading(budget)
        audit_record(
            actor=operator,
            action="budget.deposit",
            obj=budget,
            details={"points": points, "yuan_fen": yuan_fen, "note": note},
        )
        task_enqueue_on_commit("earn.fund_waiting")  # the earn side funds its waiting credits
    return deposit


def _reading(budget: Budget, now: datetime | None = None) -> Reading:
    balance = (
        LedgerAccount.objects.filter(kind=budget_ledger.BUDGET.kind, owner_id=budget.pk)
        .values_list("balance", flat=True)
        .first()
        or 0
    )
    deposits = (
        LedgerAccount.objects.filter(kind=budget_ledger.DEPOSITS.kind, owner_id=budget.pk)
        .values_list("balance", flat=True)
        .first()
        or 0
    )
    return Reading.objects.create(
        budget=budget, taken_at=now or timezone.now(), balance=balance, deposited=-deposits
    )


def budgets_watch(*, now: datetime | None = None) -> list[Alert]:
    """Hourly: a reading of every budget in force (the forecast's data), and an alert for each
    budget whose level worsened since its last alert, e-mailed to the managers."""
    now = now or timezone.now()
    raised = []
    rows = {row.id: row for row in budget_rows(now=now, current_only=True)}
    for budget in Budget.objects.filter(pk__in=rows).select_related("sponsor"):
        row = rows[budget.pk]
        Reading.objects.create(
            budget=budget, taken_at=now, balance=row.balance, deposited=row.deposited
        )
        last = budget.alerts.order_by("-raised_at", "-pk").first()
        if row.level == (last.level if last else BudgetLevel.FUNDED):
            continue
        alert = Alert.objects.create(
            budget=budget,
            level=row.level,
            balance=row.balance,
            deposited=row.deposited,
            runs_out_at=row.runs_out_at,
            raised_at=now,
        )
        if row.level != BudgetLevel.FUNDED:
            raised.append(alert)
            log.warning(
                "budget %s is %s: %s of %s points left",
                budget.pk,
                row.level,
                row.balance,
                row.deposited,
            )
            mail_managers(
                _("Budget %(budget)s: %(level)s")
                % {"budget": budget, "level": alert.get_level_display()},
                _("%(left)s of %(deposited)s points left; forecast to run out: %(when)s.")
                % {
                    "left": row.balance,
                    "deposited": row.deposited,
                    "when": row.runs_out_at.isoformat()
                    if row.runs_out_at
                    else _("not at the current rate"),
                },
                fail_silently=True,
            )
    return raised


def points_expiry_warn(*, now: datetime | None = None) -> int:
    """Citizens whose points expire within ``POINTS_EXPIRY_NOTICE_DAYS`` are told in their inbox,
    once per stretch without movement: how many points, and the day they expire unless used or
    added to. One statement to find them, one to write the notes."""
    months = settings.POINTS_EXPIRE_AFTER_MONTHS
    if months <= 0:
        return 0
    now = now or timezone.now()
    cutoff = now - relativedelta(months=months)
    last_moved = Subquery(
        Posting.objects.filter(account=OuterRef("pk")).order_by("-id").values("created_at")[:1]
    )
    warned = Notification.objects.filter(
        account_id=OuterRef("owner_id"),
        kind=Notification.Kind.POINTS_EXPIRING,
        created_at__gte=OuterRef("last_moved"),
    )
    soon = (
        LedgerAccount.objects.filter(kind=citizen_ledger.POINTS.kind, balance__gt=0)
        .filter(~Exists(_accrued))  # credited, not posted yet: they moved just now
        .annotate(last_moved=last_moved)
        .filter(
            last_moved__gte=cutoff,
            last_moved__lt=cutoff + timedelta(days=settings.POINTS_EXPIRY_NOTICE_DAYS),
        )
        .filter(~Exists(warned))
        .values_list("owner_id", "balance", "last_moved")
    )
    notes = Notification.objects.bulk_create(
        [
            Notification(
                account_id=owner,
                kind=Notification.Kind.POINTS_EXPIRING,
                points=balance,
                created_at=now,
                data={
                    "date": f"{timezone.localtime(moved + relativedelta(months=months)):%Y-%m-%d}"
                },
            )
            for owner, balance, moved in soon
        ]
    )
    return len(notes)


def points_expire(*, now: datetime | None = None, limit: int = 5000) -> int:
    """Points left unused for ``POINTS_EXPIRE_AFTER_MONTHS`` (no movement in or out of a citizen's
    points) expire: they move to the expiry account, and from there back to the general budget
    in force. With no such budget they wait in the expiry account for the next run. Each citizen
    finds a note in the inbox."""
    months = settings.POINTS_EXPIRE_AFTER_MONTHS
    if months <= 0:
        return 0
    now = now or timezone.now()
    cutoff = now - relativedelta(months=months)
    with transaction.atomic():
        recent = Posting.objects.filter(account=OuterRef("pk"), created_at__gte=cutoff)
        idle = list(
            LedgerAccount.objects.filter(kind=citizen_ledger.POINTS.kind, balance__gt=0)
            .filter(~Exists(recent))
            .filter(~Exists(_accrued))  # credited, not posted yet: not idle
            .order_by("pk")
            .values_list("owner_id", "balance")[:limit]
        )
        expiry = ledger_accounts_get_or_create(keys=[budget_ledger.EXPIRY])
        refs = ledger_accounts_get_or_create(
            keys=[citizen_ledger.POINTS.of(owner) for owner, _b in idle]
        )
        specs = [
            TransactionSpec(
                kind=budget_ledger.EXPIRE_KIND,
                idempotency_key=f"expire:{owner}:{now:%Y%m%d%H%M%S}",
                reference=f"citizen:{owner}",
                memo=f"unused for {months} months",
                legs=[
                    Leg(refs[citizen_ledger.POINTS.of(owner)], -balance),
                    Leg(expiry[budget_ledger.EXPIRY], balance),
                ],
            )
            for owner, balance in idle
        ]
        transaction_post_many(specs=specs)
        Notification.objects.bulk_create(
            [
                Notification(
                    account_id=owner,
                    kind=Notification.Kind.POINTS_EXPIRED,
                    points=balance,
                    data={"months": months},
                    created_at=now,
                )
                for owner, balance in idle
            ]
        )
        _expired_return(now)
    return len(idle)


def _expired_return(now: datetime) -> None:
    """What the expiry account holds goes back to the general budget in force."""
    budget = general_budget(now)
    held = (
        LedgerAccount.objects.filter(kind=budget_ledger.EXPIRY.kind)
        .values_list("balance", flat=True)
        .first()
    )
    if budget is None or not held:
        return
    refs = ledger_accounts_get_or_create(
        keys=[budget_ledger.EXPIRY, budget_ledger.BUDGET.of(budget.pk)]
    )
    transaction_post(
        kind=budget_ledger.RETURN_KIND,
        idempotency_key=f"budget:{budget.pk}:return:{now:%Y%m%d%H%M%S}",
        reference=f"budget:{budget.pk}",
        memo="expired points back to the budget",
        legs=[
            Leg(refs[budget_ledger.EXPIRY], -held),
            Leg(refs[budget_ledger.BUDGET.of(budget.pk)], held),
        ],
    )
