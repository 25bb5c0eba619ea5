"""Which budget funds a credit, at what rate, and when a budget runs out: pure functions.

The crediting path (``earn.pipeline.rules.credit``) asks ``Funding.choose`` for each credited
record, over the budgets loaded once per run; nothing here reads or writes the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from carbonpoints.regions import codes

from .models import Budget, BudgetLevel


@dataclass(slots=True)
class BudgetState:
    """A budget in force as the rules see it: its published terms and its ledger balance."""

    id: int
    sponsor: str
    actions: frozenset[str]
    ends_at: datetime
    balance: int
    deposited: int
    warn_below_percent: int = 20
    throttle_below_percent: int = 10
    throttle: str = Budget.Throttle.SCALE
    throttle_factor: Decimal = Decimal("0.5")
    region: str = ""
    """Where the actions it funds happen (empty: the default region)."""

    def funds(self, action: str) -> bool:
        return not self.actions or action in self.actions

    @property
    def level(self) -> BudgetLevel:
        return level_of(
            balance=self.balance,
            deposited=self.deposited,
            warn_below_percent=self.warn_below_percent,
            throttle_below_percent=self.throttle_below_percent,
        )


def level_of(
    *, balance: int, deposited: int, warn_below_percent: int, throttle_below_percent: int
) -> BudgetLevel:
    """Funded, running low, throttled or exhausted: the share of the deposited points still left
    (integers only)."""
    if balance <= 0:
        return BudgetLevel.EXHAUSTED
    if balance * 100 < deposited * throttle_below_percent:
        return BudgetLevel.THROTTLED
    if balance * 100 < deposited * warn_below_percent:
        return BudgetLevel.RUNNING_LOW
    return BudgetLevel.FUNDED


@dataclass(frozen=True, slots=True)
class Choice:
    """How one credit is funded: by ``budget`` (None: it waits, for ``waits``) at ``factor``."""

    budget: BudgetState | None
    points: int
    remainder_g: int
    factor: Decimal = Decimal(1)
    waits: str = ""


Earn = Callable[[Decimal], tuple[int, int]]
"""Points and the carried remainder a credit earns at a share (1, or a throttle's factor) of its grams."""

WAITS_THROTTLED = "budget_throttled"
WAITS_NO_FUNDS = "budget_exhausted"


@dataclass
class Funding:
    """The budgets in force for one run, drawn down in memory as credits are funded.

    An action is funded by the budgets of its region first, then by those of the region it lies
    in (a province's budget funds what no city budget covers). Within a region, budgets for named
    scenes come first, then those for every scene; among them, the one that ends first. A budget
    funds a credit only whole: if it holds fewer points, the next one tries.
    """

    budgets: list[BudgetState]
    drawn: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    _candidates: dict[tuple[str, str | None], list[BudgetState]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.budgets = sorted(self.budgets, key=lambda b: (not b.actions, b.ends_at, b.id))

    def candidates(self, action: str, region: str | None = None) -> list[BudgetState]:
        """The budgets that may fund an action, in the order they are tried (worked out once per
        action and region of a run: the crediting path asks for each record)."""
        found = self._candidates.get((action, region))
        if found is None:
            default = codes.default()
            found = self._candidates[(action, region)] = [
                budget
                for place in codes.chain(region)
                for budget in self.budgets
                if (budget.region or default) == place and budget.funds(action)
            ]
        return found

    def choose(
        self, action: str, earn: Earn, *, may_scale: bool = True, region: str | None = None
    ) -> Choice:
        """The budget that funds a credit of ``action``, drawn down by its points.

        A throttled budget scales the credit by its published factor, or makes it wait (pending
        throttle); a credit no budget can fund waits, and is never issued unfunded. A credit that
        already waited (``may_scale`` False) is funded whole, or waits on.
        """
        full = earn(Decimal(1))
        for budget in self.candidates(action, region):
            level = budget.level
            if level == BudgetLevel.EXHAUSTED:
                continue
            if level == BudgetLevel.THROTTLED and budget.throttle == Budget.Throttle.PENDING:
                return Choice(None, *full, waits=WAITS_THROTTLED)
            factor = (
                budget.throttle_factor
                if level == BudgetLevel.THROTTLED and may_scale
                else Decimal(1)
            )
            points, remainder = earn(factor) if factor != 1 else full
            if points <= budget.balance:
                self.draw(budget, points)
                return Choice(budget, points, remainder, factor)
        return Choice(None, *full, waits=WAITS_NO_FUNDS)

    def draw(self, budget: BudgetState, points: int) -> None:
        budget.balance -= points
        self.drawn[budget.id] += points


@dataclass(frozen=True, slots=True)
class Point:
    """A budget's balance and total deposited at a moment (a reading, or now)."""

    at: datetime
    balance: int
    deposited: int


def runs_out_at(base: Point | None, now: Point) -> datetime | None:
    """When the budget runs out at the trailing rate: what it paid out since ``base`` (an earlier
    reading; deposits aside), extrapolated from ``now``. None while it pays nothing out."""
    if base is None:
        return None
    paid_out = (now.deposited - base.deposited) - (now.balance - base.balance)
    elapsed = (now.at - base.at).total_seconds()
    if paid_out <= 0 or elapsed <= 0:
        return None
    return now.at + timedelta(seconds=now.balance * elapsed / paid_out)
