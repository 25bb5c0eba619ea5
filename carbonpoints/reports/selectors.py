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
from carbonpoints.budgets.models import Budget
from carbonpoints.budgets.selectors import budget_rows
from carbonpoints.claims.selectors import claims_overdue
from carbonpoints.earn.models import ActionRecord, ActionState, IdentityLink, Partner
from carbonpoints.ledger.models import LedgerAccount
from carbonpoints.regions.codes import default as default_region
from carbonpoints.regions.selectors import regions_within

UNKNOWN_DISTRICT = "unknown"
PENDING_STATES = [ActionState.RECEIVED, ActionState.QUANTIFIED, ActionState.VERIFIED]


def _records(region: str | None = None) -> Any:
    """The records of a region and the regions in it (a province: its cities too); None: all."""
    records = ActionRecord.objects.all()
    return records if region is None else records.filter(region__in=regions_within(region))


def pipeline_figures(now: datetime | None = None, region: str | None = None) -> dict[str, Any]:
    """Queue depth, stuck batches (records pending for an hour), flagged backlog, rejections by partner."""
    now = now or timezone.now()
    stuck_before = now - timedelta(hours=1)
    pending = _records(region).filter(state__in=PENDING_STATES)
    counts = pending.aggregate(
        queue_depth=Count("pk"), stuck_records=Count("pk", filter=Q(received_at__lt=stuck_before))
    )
    stuck_batches = (
        pending.filter(received_at__lt=stuck_before).values("batch_id").distinct().count()
    )
    flagged = _records(region).filter(state=ActionState.FLAGGED, review="").count()
    rejections = [
        {"partner": row["partner__name"], "reason": row["reason"] or "unknown", "records": row["n"]}
        for row in _records(region)
        .filter(state=ActionState.REJECTED)
        .values("partner__name", "reason")
        .annotate(n=Count("pk"))
        .order_by("partner__name", "-n", "reason")
    ]
    return {
        "queue_depth": counts["queue_depth"],
        "stuck_records": counts["stuck_records"],
        "stuck_batches": stuck_batches,
        "flagged_backlog": flagged,
        "rejections_by_partner": rejections,
    }


def _credited_in(region: str | None = None) -> Any:
    return _records(region).filter(state=ActionState.CREDITED)


def city_figures(region: str | None = None) -> dict[str, Any]:
    """Credited reductions (grams CO2e) by month, scene, partner and district (of a region: the
    actions that happened there)."""
    tz = timezone.get_current_timezone()
    credited = _credited_in(region)
    by_month = (
        credited.annotate(month=TruncMonth("occurred_at", tzinfo=tz))
        .values("month")
        .annotate(
            grams=Sum("credited_g"),
            actions=Count("pk"),
            citizens=Count("account_id", distinct=True),
        )
        .order_by("month")
    )
    by_scene = (
        credited.values("action")
        .annotate(grams=Sum("credited_g"), actions=Count("pk"))
        .order_by("action")
    )
    by_partner = (
        credited.values("partner__name")
        .annotate(grams=Sum("credited_g"), actions=Count("pk"))
        .order_by("partner__name")
    )
    by_district = (
        credited.annotate(
            district=Coalesce(
                KeyTextTransform("district", "attributes"),
                Value(UNKNOWN_DISTRICT),
                output_field=TextField(),
            )
        )
        .values("district")
        .annotate(grams=Sum("credited_g"), actions=Count("pk"))
        .order_by("district")
    )
    return {
        "reductions_by_month": [
            {
                "month": row["month"].strftime("%Y-%m"),
                "grams": row["grams"] or 0,
                "actions": row["actions"],
                "citizens": row["citizens"],
            }
            for row in by_month
        ],
        "reductions_by_scene": [
            {"scene": row["action"], "grams": row["grams"] or 0, "actions": row["actions"]}
            for row in by_scene
        ],
        "reductions_by_partner": [
            {"partner": row["partner__name"], "grams": row["grams"] or 0, "actions": row["actions"]}
            for row in by_partner
        ],
        "reductions_by_district": [
            {"district": row["district"], "grams": row["grams"] or 0, "actions": row["actions"]}
            for row in by_district
        ],
    }


def participation_figures(now: datetime | None = None, region: str | None = None) -> dict[str, int]:
    """Citizens registered, linked to a partner, and active (credited) in the last 30 days.

    Of a region: the citizens whose home region it is (or lies in it), those linked to a partner
    approved there, and those with a credited action there (one citizen may be active in several)."""
    now = now or timezone.now()
    citizens, links = (
        CarbonAccount.objects.all(),
        IdentityLink.objects.filter(revoked_at__isnull=True),
    )
    if region is not None:
        within = regions_within(region)
        home = Q(home_region__in=within) | (
            Q(home_region__isnull=True) if default_region() in within else Q(pk__in=[])
        )
        citizens = citizens.filter(home)
        links = links.filter(
            partner__in=Partner.objects.filter(
                Q(regions__in=within)
                | (Q(regions__isnull=True) if default_region() in within else Q(pk__in=[]))
            )
        )
    return {
        "citizens": citizens.count(),
        "linked_citizens": links.values("account_id").distinct().count(),
        "active_citizens_30_days": _credited_in(region)
        .filter(occurred_at__gte=now - timedelta(days=30))
        .values("account_id")
        .distinct()
        .count(),
    }


def ledger_figures() -> dict[str, int]:
    """From the ledger's running balances: points citizens hold (available and pending), the pool
    of grams not yet sold, and grams retired as offsets."""
    figures = LedgerAccount.objects.aggregate(
        # the citizens' own accounts and what is accrued to them, not posted yet
        points_available=Sum(
            "balance",
            filter=Q(kind__in=[citizen_ledger.POINTS.kind, citizen_ledger.POINTS_ACCRUED.kind]),
        ),
        points_pending=Sum(
            "balance",
            filter=Q(
                kind__in=[
                    citizen_ledger.POINTS_PENDING.kind,
                    citizen_ledger.POINTS_PENDING_ACCRUED.kind,
                ]
            ),
        ),
        pool_g=Sum("balance", filter=Q(kind__startswith=citizen_ledger.POOL_KIND_PREFIX)),
        retired_g=Sum("balance", filter=Q(kind__startswith="offset_retired")),
    )
    result = {name: int(value or 0) for name, value in figures.items()}
    result["points_outstanding"] = result["points_available"] + result["points_pending"]
    return result


def sponsor_budgets(now: datetime | None = None, region: str | None = None) -> list[dict[str, Any]]:
    """Each sponsor's budget: deposited, issued and left (from the ledger), its level and when it
    runs out at the trailing rate (of a region: its budgets, and its cities')."""
    rows = budget_rows(now=now)
    if region is not None:
        rows = [row for row in rows if (row.region or default_region()) in regions_within(region)]
    return [row.as_json() for row in rows]


def city_report(now: datetime | None = None, region: str | None = None) -> dict[str, Any]:
    """Everything the dashboard shows, the open-data documents too (no personal data in it).

    Of a region (a GB/T 2260 code): the same figures of what happened there, and ``region``; a
    province's are its cities' summed. The ledger's balances are the whole platform's (one account
    per citizen across the province): only the report of everything has them."""
    now = now or timezone.now()
    report: dict[str, Any] = {
        "generated_at": now.isoformat(),
        "pipeline": pipeline_figures(now, region),
        "city": city_figures(region),
        "participation": participation_figures(now, region),
        "sponsor_budgets": sponsor_budgets(now, region),
    }
    if region is None:
        report["ledger"] = ledger_figures()
        report["pipeline"]["claims_overdue"] = claims_overdue(now).count()
    else:
        report["region"] = region
    return report


def report_rows(report: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    """The report as flat rows ``(section, dimension, key, value)`` for CSV."""
    rows: list[tuple[str, str, str, int]] = []
    for name in (
        "queue_depth",
        "stuck_records",
        "stuck_batches",
        "flagged_backlog",
        "claims_overdue",
    ):
        if name in report["pipeline"]:
            rows.append(("pipeline", name, "", report["pipeline"][name]))
    for row in report["pipeline"]["rejections_by_partner"]:
        rows.append(("pipeline", "rejections", f"{row['partner']}/{row['reason']}", row["records"]))
    for dimension, key in (
        ("reductions_by_month", "month"),
        ("reductions_by_scene", "scene"),
        ("reductions_by_partner", "partner"),
        ("reductions_by_district", "district"),
    ):
        for row in report["city"][dimension]:
            rows.append(("city", f"{dimension}_g", str(row[key]), row["grams"]))
    for name, value in report["participation"].items():
        rows.append(("participation", name, "", value))
    for name, value in report.get("ledger", {}).items():
        rows.append(("ledger", name, "", value))
    for budget in report["sponsor_budgets"]:
        for name in ("points_deposited", "points_issued", "points_left"):
            rows.append(("budgets", name, f"{budget['sponsor']}/{budget['budget']}", budget[name]))
    return rows


def report_regions() -> list[str]:
    """The regions with partners or budgets of their own, for the dashboard's picker (small tables:
    the records are never scanned for it)."""
    partners = Partner.regions.through.objects.values_list("region_id", flat=True)
    return sorted({*partners, *Budget.objects.values_list("region_id", flat=True)})
