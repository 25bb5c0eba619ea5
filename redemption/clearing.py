"""Clearing between cities: which region's budgets funded the points a citizen spent at a merchant
of another region, and the month's statement that nets each pair of regions.

A citizen's points are one balance; the budgets that funded them are known from the credited
records. The points are taken as spent oldest first (the order expiry uses): each spend draws on
the citizen's earliest funded credits not spent yet. ``attribute`` and ``statement_of`` are the
pure core; ``statement`` reads the month's spends and their citizens' credits.

Computed from the records and the spends, not posted to the ledger yet (docs/regions.md says
what is left): reversals, expiry and refunds are not taken off the citizen's credits here.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_EVEN, Decimal

from django.utils import timezone

from carbonpoints.budgets.models import Budget
from carbonpoints.budgets.selectors import yuan_per_point
from carbonpoints.earn.models import ActionRecord, ActionState

from .models import Checkout, Redemption


@dataclass(frozen=True, slots=True)
class Credit:
    """Funded points of one credited record: ``points`` from ``budget`` of ``region``."""

    at: datetime
    points: int
    budget_id: int
    region: str


@dataclass(frozen=True, slots=True)
class Spend:
    """Points spent at a merchant of ``region`` (a redemption or a till's checkout)."""

    at: datetime
    points: int
    region: str


@dataclass(frozen=True, slots=True)
class Drawn:
    """Part of a spend, drawn on one budget."""

    spend: Spend
    points: int
    budget_id: int
    funded_in: str


def attribute(credits: Iterable[Credit], spends: Iterable[Spend]) -> list[Drawn]:
    """Each spend, in time order, drawn on the citizen's oldest funded credits not spent yet;
    points spent beyond what the credits funded are left out (nothing funded them here)."""
    left = deque(sorted(credits, key=lambda c: c.at))
    head = 0  # points of left[0] already spent
    drawn = []
    for spend in sorted(spends, key=lambda s: s.at):
        need = spend.points
        while need and left:
            credit = left[0]
            take = min(need, credit.points - head)
            if take:
                drawn.append(
                    Drawn(
                        spend=spend,
                        points=take,
                        budget_id=credit.budget_id,
                        funded_in=credit.region,
                    )
                )
            need -= take
            head += take
            if head == credit.points:
                left.popleft()
                head = 0
    return drawn


@dataclass
class Line:
    """What one region owes another for the month: the points spent at the other's merchants that
    its budgets funded, and their money at each budget's published rate."""

    owes: str
    to: str
    points: int = 0
    yuan: Decimal = Decimal(0)


@dataclass
class Statement:
    month: str
    gross: list[Line] = field(default_factory=list)
    net: list[Line] = field(default_factory=list)
    """Each pair of regions once: who owes whom, after what they owe each other."""


CENT = Decimal("0.01")


def statement_of(
    drawn: Iterable[Drawn], *, month: date, rates: dict[int, Decimal | None]
) -> Statement:
    """The month's statement from the drawn parts of its spends (those at a merchant of the region
    that funded them are not cleared)."""
    gross: dict[tuple[str, str], Line] = {}
    for part in drawn:
        if part.funded_in == part.spend.region:
            continue
        line = gross.setdefault(
            (part.funded_in, part.spend.region), Line(part.funded_in, part.spend.region)
        )
        line.points += part.points
        line.yuan += part.points * (rates.get(part.budget_id) or Decimal(0))
    net: list[Line] = []
    for (a, b), line in sorted(gross.items()):
        if (b, a) in gross and (b, a) < (a, b):
            continue  # netted with its pair already
        back = gross.get((b, a), Line(b, a))
        points, yuan = line.points - back.points, line.yuan - back.yuan
        net.append(Line(a, b, points, yuan) if points >= 0 else Line(b, a, -points, -yuan))
    for line in [*gross.values(), *net]:
        line.yuan = line.yuan.quantize(CENT, rounding=ROUND_HALF_EVEN)
    return Statement(
        month=f"{month:%Y-%m}",
        gross=sorted(gross.values(), key=lambda line: (line.owes, line.to)),
        net=net,
    )


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The local month's first instant and the next month's."""
    tz = timezone.get_current_timezone()
    first = month.replace(day=1)
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return datetime.combine(first, time.min, tzinfo=tz), datetime.combine(
        following, time.min, tzinfo=tz
    )


def statement(*, month: date) -> Statement:
    """The clearing statement of a month: the spends at merchants in the month (redemptions not
    refunded, checkouts not reversed), drawn on their citizens' funded credits up to then."""
    start, end = month_bounds(month)
    redemptions = (
        Redemption.objects.filter(created_at__lt=end)
        .exclude(status=Redemption.Status.REFUNDED)
        .values_list("citizen_id", "created_at", "points_spent", "scenario__merchant__region")
    )
    checkouts = Checkout.objects.filter(
        created_at__lt=end, status=Checkout.Status.PAID
    ).values_list("citizen_id", "created_at", "points_used", "merchant__region")
    spends: dict[int, list[Spend]] = defaultdict(list)
    for citizen, at, points, region in [*redemptions, *checkouts]:
        spends[citizen].append(Spend(at=at, points=points, region=region))
    spenders = [c for c, rows in spends.items() if any(s.at >= start for s in rows)]
    credits: dict[int, list[Credit]] = defaultdict(list)
    for account, credited_at, earned, budget_id, funded_in in ActionRecord.objects.filter(
        account_id__in=spenders,
        state=ActionState.CREDITED,
        budget__isnull=False,
        points__gt=0,
        credited_at__lt=end,
    ).values_list("account_id", "credited_at", "points", "budget_id", "budget__region"):
        assert credited_at is not None and earned is not None, "credited records only"
        credits[account].append(
            Credit(at=credited_at, points=earned, budget_id=budget_id, region=funded_in)
        )
    drawn = [
        part
        for citizen in spenders
        for part in attribute(credits[citizen], spends[citizen])
        if part.spend.at >= start
    ]
    rates = {
        budget.pk: yuan_per_point(budget)
        for budget in Budget.objects.filter(pk__in={part.budget_id for part in drawn})
    }
    return statement_of(drawn, month=month, rates=rates)


def statement_rows(report: Statement) -> list[list[str]]:
    """The statement as CSV rows: the net lines, then the gross ones."""
    rows = [["month", "kind", "owes", "to", "points", "yuan"]]
    for kind, lines in (("net", report.net), ("gross", report.gross)):
        rows += [
            [report.month, kind, line.owes, line.to, str(line.points), f"{line.yuan:.2f}"]
            for line in lines
        ]
    return rows
