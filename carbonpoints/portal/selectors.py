"""Reads for the portal's pages: a citizen's recent days and what their grams amount to."""

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

from carbonpoints.earn.models import ActionRecord, ActionState


def daily_reductions(*, account_id: int, days: int = 30) -> list[tuple[date, int]]:
    """Grams credited per day (local time) over the last ``days`` days, oldest first, gaps as 0."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    rows = (
        ActionRecord.objects.filter(
            account_id=account_id,
            state=ActionState.CREDITED,
            occurred_at__date__gte=first,
        )
        .annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(grams=Sum("credited_g"))
    )
    by_day = {row["day"]: row["grams"] or 0 for row in rows}
    return [(first + timedelta(days=n), by_day.get(first + timedelta(days=n), 0)) for n in range(days)]


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
        _("trees absorbing CO2 for a year"), Decimal("18000"), _("trees"),
        _("About 18 kg CO2 a tree a year: a widely used popular figure, an approximation."),
    ),
    Equivalent(
        _("km not driven by a petrol car"), Decimal("161"), _("km"),
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


def chart_series(series: list[tuple[date, int]], *, label: str) -> dict:
    """A day series for the portal's Chart.js bar chart, in g, or in kg once a day passes 10 kg."""
    peak = max((grams for _, grams in series), default=0)
    divisor, unit = (1000, "kg") if peak >= 10_000 else (1, "g")
    return {"labels": [day.strftime("%m-%d") for day, _ in series], "label": str(label), "unit": unit,
            "values": [round(grams / divisor, 2) if divisor > 1 else grams for _, grams in series]}
