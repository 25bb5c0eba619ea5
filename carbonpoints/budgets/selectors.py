"""Reads of budgets: the terms the crediting path needs, and the figures operators and the public see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from carbonpoints.ledger.models import LedgerAccount

from . import ledger_accounts as budget_ledger
from .models import Budget, BudgetLevel, Deposit, Reading
from .rules import BudgetState, Point, level_of, runs_out_at


def _balance_of(kind: str) -> Subquery:
    return Subquery(
        LedgerAccount.objects.filter(kind=kind, owner_id=OuterRef("pk"), unit="pt").values(
            "balance"
        )[:1]
    )


def budgets_with_balances() -> QuerySet[Budget]:
    """Budgets with their ledger balances read in the same query: ``ledger_balance`` (points left)
    and ``ledger_deposits`` (minus the points deposited); ``_ledger`` reads them."""
    return Budget.objects.select_related("sponsor").annotate(
        ledger_balance=_balance_of(budget_ledger.BUDGET.kind),
        ledger_deposits=_balance_of(budget_ledger.DEPOSITS.kind),
    )


def in_force(now: datetime | None = None) -> QuerySet[Budget]:
    now = now or timezone.now()
    return budgets_with_balances().filter(starts_at__lte=now, ends_at__gt=now)


def funding_in_force(now: datetime | None = None) -> list[BudgetState]:
    """The budgets in force now, as the crediting rules take them (one query)."""
    return [_state(budget) for budget in in_force(now)]


def _ledger(budget: Budget) -> tuple[int, int]:
    """Points left and points deposited, as ``budgets_with_balances`` annotated them."""
    return getattr(budget, "ledger_balance", None) or 0, -(
        getattr(budget, "ledger_deposits", None) or 0
    )


def _state(budget: Budget) -> BudgetState:
    balance, deposited = _ledger(budget)
    return BudgetState(
        id=budget.pk,
        sponsor=budget.sponsor.name,
        actions=frozenset(budget.actions or ()),
        ends_at=budget.ends_at,
        balance=balance,
        deposited=deposited,
        warn_below_percent=budget.warn_below_percent,
        throttle_below_percent=budget.throttle_below_percent,
        throttle=budget.throttle,
        throttle_factor=budget.throttle_factor,
        region=budget.region_id or "",
    )


def general_budget(now: datetime | None = None) -> Budget | None:
    """The budget in force for every scene that ends last: the city's own, which takes back expired
    points and whose rate merchants are settled at."""
    return in_force(now).filter(actions=[]).order_by("-ends_at", "-pk").first()


def yuan_per_point(budget: Budget) -> Decimal | None:
    """The budget's published rate: money paid in over points deposited (six decimal places)."""
    totals = budget.deposits.aggregate(points=Sum("points"), fen=Sum("yuan_fen"))
    return _rate(fen=totals["fen"] or 0, points=totals["points"] or 0)


def _rate(*, fen: int, points: int) -> Decimal | None:
    """Yuan per point, to six decimal places (half to even); None for no points."""
    if not points:
        return None
    return (Decimal(fen) / 100 / points).quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class BudgetRow:
    """One budget as the dashboard, the open data and the public register show it."""

    id: int
    sponsor: str
    name: str
    scenes: list[str]
    starts_at: datetime
    ends_at: datetime
    deposited: int
    balance: int
    issued: int
    yuan_fen: int
    yuan_per_point: Decimal | None
    level: BudgetLevel
    runs_out_at: datetime | None
    throttle: str
    throttle_factor: Decimal
    warn_below_percent: int
    throttle_below_percent: int
    region: str = ""
    """Where the actions it funds happen (GB/T 2260 code)."""

    def as_json(self) -> dict:
        return {
            "sponsor": self.sponsor,
            "budget": self.name,
            "scenes": self.scenes or ["*"],
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "points_deposited": self.deposited,
            "points_left": self.balance,
            "points_issued": self.issued,
            "yuan_paid": f"{self.yuan_fen / 100:.2f}",
            "yuan_per_point": None if self.yuan_per_point is None else str(self.yuan_per_point),
            # ``level`` keeps its old codes for open data's consumers; ``level_name`` is BudgetLevel's
            "level": self.level.legacy_code,
            "level_name": self.level.value,
            "runs_out_at": self.runs_out_at.isoformat() if self.runs_out_at else None,
            "throttle": self.throttle,
            "throttle_factor": str(self.throttle_factor),
            "warn_below_percent": self.warn_below_percent,
            "throttle_below_percent": self.throttle_below_percent,
            "region": self.region,
        }


FORECAST_WINDOW = timedelta(days=7)


def budgets_with_figures(now: datetime | None = None) -> QuerySet[Budget]:
    """Budgets with all their rows show, read in one query: the ledger balances, the money paid
    (``fen``) and the forecast's base reading (``base_at``, ``base_balance``, ``base_deposited``:
    the latest reading at least seven days old, or the first while the budget is younger)."""
    now = now or timezone.now()
    readings = Reading.objects.filter(budget=OuterRef("pk"))
    week_old = (
        readings.filter(taken_at__lte=now - FORECAST_WINDOW).order_by("-taken_at").values("pk")[:1]
    )
    first = readings.filter(taken_at__lt=now).order_by("taken_at").values("pk")[:1]
    paid = (
        Deposit.objects.filter(budget=OuterRef("pk"))
        .values("budget")
        .annotate(fen=Sum("yuan_fen"))
        .values("fen")
    )
    base = Reading.objects.filter(pk=OuterRef("forecast_base"))
    return (
        budgets_with_balances()
        .annotate(forecast_base=Coalesce(Subquery(week_old), Subquery(first)), fen=Subquery(paid))
        .annotate(
            base_at=Subquery(base.values("taken_at")[:1]),
            base_balance=Subquery(base.values("balance")[:1]),
            base_deposited=Subquery(base.values("deposited")[:1]),
        )
    )


def budget_row(budget: Budget, now: datetime) -> BudgetRow:
    """One budget of ``budgets_with_figures`` as the pages show it (no query)."""
    balance, deposited = _ledger(budget)
    paid = getattr(budget, "fen", None) or 0
    base_at = getattr(budget, "base_at", None)
    base = Point(base_at, budget.base_balance, budget.base_deposited) if base_at else None  # type: ignore[attr-defined]
    running = budget.starts_at <= now < budget.ends_at
    return BudgetRow(
        id=budget.pk,
        sponsor=budget.sponsor.name,
        name=budget.name,
        scenes=list(budget.actions or ()),
        starts_at=budget.starts_at,
        ends_at=budget.ends_at,
        deposited=deposited,
        balance=balance,
        issued=deposited - balance,
        yuan_fen=paid,
        yuan_per_point=_rate(fen=paid, points=deposited),
        level=level_of(
            balance=balance,
            deposited=deposited,
            warn_below_percent=budget.warn_below_percent,
            throttle_below_percent=budget.throttle_below_percent,
        ),
        runs_out_at=runs_out_at(base, Point(now, balance, deposited)) if running else None,
        throttle=budget.throttle,
        throttle_factor=budget.throttle_factor,
        warn_below_percent=budget.warn_below_percent,
        throttle_below_percent=budget.throttle_below_percent,
        region=budget.region_id or "",
    )


def budget_rows(*, now: datetime | None = None, current_only: bool = False) -> list[BudgetRow]:
    """Every budget (or those in force), newest first, with its ledger figures and forecast (one
    query, however many budgets)."""
    now = now or timezone.now()
    budgets = budgets_with_figures(now)
    if current_only:
        budgets = budgets.filter(starts_at__lte=now, ends_at__gt=now)
    return [budget_row(budget, now) for budget in budgets.order_by("-starts_at", "pk")]


def settlement_rate(now: datetime | None = None) -> tuple[Decimal, str]:
    """The rate merchants are settled at (yuan per point) and who publishes it: the general budget's
    sponsor where it has deposits, else the platform's published rate (a setting)."""
    budget = general_budget(now)
    rate = yuan_per_point(budget) if budget is not None else None
    if budget is None or rate is None:
        return settings.REDEMPTION_SETTLEMENT_YUAN_PER_POINT, "platform"
    return rate, budget.sponsor.name
