"""Reads for the portal's pages: a citizen's recent days, what their grams amount to, and what to do next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Max, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from carbonpoints.earn.models import ActionRecord, ActionState, IdentityLink
from carbonpoints.regions.selectors import regions_all


def daily_reductions(*, account_id: int, days: int = 30) -> list[tuple[date, int]]:
    """Grams credited per day (local time) over the last ``days`` days, oldest first, gaps as 0."""
    return daily_reductions_by_region(account_id=account_id, days=days)[0]


def daily_reductions_by_region(
    *, account_id: int, days: int = 30
) -> tuple[list[tuple[date, int]], dict[str, list[int]]]:
    """The days' grams (as ``daily_reductions``), and the same per region where the actions
    happened (a GB/T 2260 code → grams per day, oldest first), from one grouped statement."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    rows = (
        ActionRecord.objects.filter(
            account_id=account_id,
            state=ActionState.CREDITED,
            occurred_at__date__gte=first,
        )
        .annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "region")
        .annotate(grams=Sum("credited_g"))
    )
    by_day: dict[date, int] = {}
    by_region: dict[str, dict[date, int]] = {}
    for row in rows:
        by_day[row["day"]] = by_day.get(row["day"], 0) + (row["grams"] or 0)
        by_region.setdefault(row["region"], {})[row["day"]] = row["grams"] or 0
    days_shown = [first + timedelta(days=n) for n in range(days)]
    return (
        [(day, by_day.get(day, 0)) for day in days_shown],
        {
            region: [grams.get(day, 0) for day in days_shown]
            for region, grams in sorted(by_region.items())
        },
    )


def reductions_by_action(*, account_id: int) -> list[Any]:
    """Grams credited per action type, largest first."""
    return list(
        ActionRecord.objects.filter(account_id=account_id, state=ActionState.CREDITED)
        .values("action")
        .annotate(grams=Sum("credited_g"), title=Max("methodology__title"))
        .order_by("-grams")
    )


@dataclass(frozen=True)
class Equivalent:
    label: StrOrPromise
    per_unit_g: Decimal
    unit: StrOrPromise
    source: StrOrPromise


EQUIVALENTS = (
    Equivalent(
        _("trees absorbing CO2 for a year"),
        Decimal("18000"),
        _("trees"),
        _("About 18 kg CO2 a tree a year: a widely used popular figure, an approximation."),
    ),
    Equivalent(
        _("km not driven by a petrol car"),
        Decimal("161"),
        _("km"),
        _("≈ 161 g CO2 per km: 7 L/100 km × 2.3 kg CO2/L."),
    ),
)


def equivalents(*, grams: int) -> list[dict]:
    """What the grams amount to, each with its factor and source beside it."""
    return [
        {
            "label": e.label,
            "value": (Decimal(grams) / e.per_unit_g).quantize(Decimal("0.1")),
            "unit": e.unit,
            "source": e.source,
        }
        for e in EQUIVALENTS
    ]


def chart_series(
    series: list[tuple[date, int]],
    *,
    label: str,
    total_g: int | None = None,
    growth_label: str = "",
    by_region: dict[str, list[int]] | None = None,
) -> dict:
    """A day series for the portal's Chart.js bar chart, in g, or in kg once a day passes 10 kg.

    With ``total_g`` (the account's whole reduction), also the account growing day by day to it,
    in kg: a line over the bars (``growth``). With ``by_region`` naming more than one region
    (where the actions happened), the bars are stacked per region (``stacks``: each region's
    name and values); with one region, the chart is as it always was.
    """
    peak = max((grams for _, grams in series), default=0)
    divisor, unit = (1000, "kg") if peak >= 10_000 else (1, "g")

    def scaled(values: list[int]) -> list:
        return [round(grams / divisor, 2) if divisor > 1 else grams for grams in values]

    chart: dict[str, Any] = {
        "labels": [day.strftime("%m-%d") for day, _ in series],
        "label": str(label),
        "unit": unit,
        "values": scaled([grams for _, grams in series]),
    }
    if by_region and len(by_region) > 1:
        names = region_names()
        chart["stacks"] = [
            {"region": code, "label": names.get(code, code), "values": scaled(values)}
            for code, values in by_region.items()
        ]
    if total_g is not None:
        running = total_g - sum(
            grams for _, grams in series
        )  # what the account held before the first day
        growth = []
        for _, grams in series:
            running += grams
            growth.append(round(running / 1000, 2))
        chart.update({"growth": growth, "growth_label": str(growth_label), "growth_unit": "kg"})
    return chart


def region_names() -> dict[str, str]:
    """Each region's name in the language of the request, by code."""
    return {region.code: region.name for region in regions_all()}


def region_totals(by_region: dict[str, list[int]]) -> list[dict]:
    """Where the days' grams were saved: each region's name and grams, largest first (nothing
    when all happened in one region)."""
    if len(by_region) < 2:
        return []
    names = region_names()
    totals = [
        {"region": code, "name": names.get(code, code), "grams": sum(values)}
        for code, values in by_region.items()
    ]
    return sorted(totals, key=lambda row: -row["grams"])


def streak_days(series: list[tuple[date, int]]) -> int:
    """Low-carbon days in a row, from a series of grams per day (oldest first, today last).

    A streak ends today, or yesterday while today has nothing credited yet: the day is not over.
    """
    grams = [g for _, g in series]
    if grams and grams[-1] == 0:
        grams = grams[:-1]
    days = 0
    for g in reversed(grams):
        if g <= 0:
            break
        days += 1
    return days


@dataclass(frozen=True)
class Step:
    key: str
    label: StrOrPromise
    done: bool
    url_name: str


def first_steps(*, account_id: int) -> list[Step]:
    """A new citizen's first steps, each done or not by what the ledger and the links hold."""
    from redemption.models import Checkout, Redemption

    links = IdentityLink.objects.filter(account_id=account_id, revoked_at__isnull=True)
    return [
        Step(
            "link", _("Link your metro, bus or bike-share account"), links.exists(), "portal-links"
        ),
        Step(
            "consent",
            _("Choose the records it may share (your consent)"),
            links.exclude(scenes=[]).exists(),
            "portal-links",
        ),
        Step(
            "credit",
            _("See your first action credited"),
            ActionRecord.objects.filter(account_id=account_id, state=ActionState.CREDITED).exists(),
            "portal-actions",
        ),
        Step(
            "redeem",
            _("Spend points: a voucher, a donation or at a till"),
            Redemption.objects.filter(citizen_id=account_id).exists()
            or Checkout.objects.filter(citizen_id=account_id).exists(),
            "wallet",
        ),
    ]


def next_voucher(*, points: int) -> Any:
    """The cheapest voucher or donation still out of reach (with the points it needs), else ``None``."""
    from redemption.models import Scenario
    from redemption.selectors import scenario_catalogue

    scenario = (
        scenario_catalogue()
        .exclude(kind=Scenario.Kind.POINTS_OFFSET)
        .filter(points_cost__gt=points)
        .exclude(stock_left=0)
        .first()
    )
    if scenario is None or scenario.points_cost is None:
        return None
    return {"scenario": scenario, "points_to_go": scenario.points_cost - points}
