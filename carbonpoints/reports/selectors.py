"""The city's figures for operators and open data: every figure one GROUP BY query, never a loop
over rows. Read from the records (what was verified, where, when) and from the ledger's running
balances (points outstanding, pool, retirements).

The district of an action is the ``district`` attribute a partner sends with it (e.g. the metro
station's district); actions sent without one count as "unknown". See docs/operators.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, Sum, TextField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from accounts import ledger_accounts as citizen_ledger
from accounts.models import CarbonAccount
from carbonpoints.budgets.selectors import budget_rows
from carbonpoints.claims.selectors import claims_overdue
from carbonpoints.earn.models import ActionRecord, ActionState, IdentityLink
from carbonpoints.ledger.models import LedgerAccount

UNKNOWN_DISTRICT = "unknown"
PENDING_STATES = [ActionState.RECEIVED, ActionState.QUANTIFIED, ActionState.VERIFIED]


def pipeline_figures(now: datetime | None = None) -> dict[str, Any]:
    """Queue depth, stuck batches (records pending for an hour), flagged backlog, rejections by partner."""
    now = now or timezone.now()
    stuck_before = now - timedelta(hours=1)
    pending = ActionRecord.objects.filter(state__in=PENDING_STATES)
    counts = pending.aggregate(queue_depth=Count("pk"), stuck_records=Count("pk", filter=Q(received_at__lt=stuck_before)))
    stuck_batches = (pending.filter(received_at__lt=stuck_before).values("batch_id").distinct().count())
    flagged = ActionRecord.objects.filter(state=ActionState.FLAGGED, review="").count()
    rejections = [
        {"partner": row["partner__name"], "reason": row["reason"] or "unknown", "records": row["n"]}
        for row in ActionRecord.objects.filter(state=ActionState.REJECTED)
        .values("partner__name", "reason").annotate(n=Count("pk")).order_by("partner__name", "-n", "reason")
    ]
    return {"queue_depth": counts["queue_depth"], "stuck_records": counts["stuck_records"],
            "stuck_batches": stuck_batches, "flagged_backlog": flagged, "rejections_by_partner": rejections,
            "claims_overdue": claims_overdue(now).count()}


def _credited() -> Any:
    return ActionRecord.objects.filter(state=ActionState.CREDITED)


def city_figures() -> dict[str, Any]:
    """Credited reductions (grams CO2e) by month, scene, partner and district."""
    tz = timezone.get_current_timezone()
    by_month = (_credited().annotate(month=TruncMonth("occurred_at", tzinfo=tz)).values("month")
                .annotate(grams=Sum("credited_g"), actions=Count("pk"), citizens=Count("account_id", distinct=True))
                .order_by("month"))
    by_scene = _credited().values("action").annotate(grams=Sum("credited_g"), actions=Count("pk")).order_by("action")
    by_partner = (_credited().values("partner__name").annotate(grams=Sum("credited_g"), actions=Count("pk"))
                  .order_by("partner__name"))
    by_district = (_credited().annotate(district=Coalesce(KeyTextTransform("district", "attributes"),
                                                          Value(UNKNOWN_DISTRICT), output_field=TextField()))
                   .values("district").annotate(grams=Sum("credited_g"), actions=Count("pk")).order_by("district"))
    return {
        "reductions_by_month": [{"month": row["month"].strftime("%Y-%m"), "grams": row["grams"] or 0,
                                 "actions": row["actions"], "citizens": row["citizens"]} for row in by_month],
        "reductions_by_scene": [{"scene": row["action"], "grams": row["grams"] or 0, "actions": row["actions"]}
                                for row in by_scene],
        "reductions_by_partner": [{"partner": row["partner__name"], "grams": row["grams"] or 0,
                                   "actions": row["actions"]} for row in by_partner],
        "reductions_by_district": [{"district": row["district"], "grams": row["grams"] or 0,
                                    "actions": row["actions"]} for row in by_district],
    }


def participation_figures(now: datetime | None = None) -> dict[str, int]:
    """Citizens registered, linked to a partner, and active (credited) in the last 30 days."""
    now = now or timezone.now()
    return {
        "citizens": CarbonAccount.objects.count(),
        "linked_citizens": IdentityLink.objects.filter(revoked_at__isnull=True).values("account_id").distinct().count(),
        "active_citizens_30_days": _credited().filter(occurred_at__gte=now - timedelta(days=30))
        .values("account_id").distinct().count(),
    }


def ledger_figures() -> dict[str, int]:
    """From the ledger's running balances: points citizens hold (available and pending), the pool
    of grams not yet sold, and grams retired as offsets."""
    figures = LedgerAccount.objects.aggregate(
        points_available=Sum("balance", filter=Q(kind=citizen_ledger.POINTS.kind)),
        points_pending=Sum("balance", filter=Q(kind=citizen_ledger.POINTS_PENDING.kind)),
        pool_g=Sum("balance", filter=Q(kind__startswith=citizen_ledger.POOL_KIND_PREFIX)),
        retired_g=Sum("balance", filter=Q(kind__startswith="offset_retired")),
    )
    result = {name: int(value or 0) for name, value in figures.items()}
    result["points_outstanding"] = result["points_available"] + result["points_pending"]
    return result


def sponsor_budgets(now: datetime | None = None) -> list[dict[str, Any]]:
    """Each sponsor's budget: deposited, issued and left (from the ledger), its level and when it
    runs out at the trailing rate."""
    return [row.as_json() for row in budget_rows(now=now)]


def city_report(now: datetime | None = None) -> dict[str, Any]:
    """Everything the dashboard shows, the open-data documents too (no personal data in it)."""
    now = now or timezone.now()
    return {"generated_at": now.isoformat(), "pipeline": pipeline_figures(now), "city": city_figures(),
            "participation": participation_figures(now), "ledger": ledger_figures(),
            "sponsor_budgets": sponsor_budgets(now)}


def report_rows(report: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    """The report as flat rows ``(section, dimension, key, value)`` for CSV."""
    rows: list[tuple[str, str, str, int]] = []
    for name in ("queue_depth", "stuck_records", "stuck_batches", "flagged_backlog", "claims_overdue"):
        rows.append(("pipeline", name, "", report["pipeline"][name]))
    for row in report["pipeline"]["rejections_by_partner"]:
        rows.append(("pipeline", "rejections", f"{row['partner']}/{row['reason']}", row["records"]))
    for dimension, key in (("reductions_by_month", "month"), ("reductions_by_scene", "scene"),
                           ("reductions_by_partner", "partner"), ("reductions_by_district", "district")):
        for row in report["city"][dimension]:
            rows.append(("city", f"{dimension}_g", str(row[key]), row["grams"]))
    for name, value in report["participation"].items():
        rows.append(("participation", name, "", value))
    for name, value in report["ledger"].items():
        rows.append(("ledger", name, "", value))
    for budget in report["sponsor_budgets"]:
        for name in ("points_deposited", "points_issued", "points_left"):
            rows.append(("budgets", name, f"{budget['sponsor']}/{budget['budget']}", budget[name]))
    return rows
