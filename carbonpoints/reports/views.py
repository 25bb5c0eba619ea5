"""The operators' dashboard (staff only) and the same figures as open data (JSON and CSV)."""

from __future__ import annotations

import csv
from datetime import date

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from carbonpoints.budgets.models import BudgetLevel
from carbonpoints.earn.selectors import scene_titles
from carbonpoints.names import local_name
from carbonpoints.regions.authority import operator_named_regions, operator_regions
from carbonpoints.regions.selectors import region_get, region_picker, regions_all, regions_within
from redemption.clearing import Statement, statement_rows
from redemption.clearing_selectors import statement as clearing_statement
from redemption.selectors import settlement_figures_by_merchant
from redemption.statements import clearing_pdf

from .selectors import city_report, report_regions, report_rows

UNKNOWN_DISTRICT = "unknown"


def _chart(rows: list[dict], key: str, label: str, names=local_name) -> dict:
    """A bar chart's data; its labels are names in the reader's language (short, so they do not overlap)."""
    return {
        "labels": [names(str(row[key])) for row in rows],
        "values": [round(row["grams"] / 1000, 3) for row in rows],
        "label": label,
        "unit": "kg CO2e",
    }


def _budget_chart(budgets: list[dict]) -> dict:
    return {
        "labels": [local_name(b["sponsor"]) for b in budgets],
        "values": [
            round(100 * b["points_left"] / b["points_deposited"], 1) if b["points_deposited"] else 0
            for b in budgets
        ],
        "label": _("Budget left"),
        "unit": "%",
    }


def _region(request: HttpRequest) -> str | None:
    """The region a report is of (``?region=``, a known GB/T 2260 code); None: everything."""
    asked = request.GET.get("region")
    return asked if asked and region_get(asked) is not None else None


@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The figures of everything, or of a region; a city's operator sees their regions' only."""
    region = _region(request)
    scope = operator_regions(request.user)
    if scope is not None and region not in scope:
        region = operator_named_regions(request.user)[0]  # their own region (the first)
    report = city_report(region=region)
    city = report["city"]
    charts = {
        "chart-month": _chart(city["reductions_by_month"], "month", _("Reductions by month")),
        "chart-scene": _chart(
            city["reductions_by_scene"],
            "scene",
            _("Reductions by scene"),
            names=lambda code: scene_titles(codes=[code], local=True)[code],
        ),
        "chart-partner": _chart(
            city["reductions_by_partner"], "partner", _("Reductions by partner")
        ),
    }
    districts = city["reductions_by_district"]
    if any(
        row["district"] != UNKNOWN_DISTRICT for row in districts
    ):  # one bar of “unknown” says nothing
        charts["chart-district"] = _chart(districts, "district", _("Reductions by district"))
    budget_chart = _budget_chart(report["sponsor_budgets"])
    budgets = [
        {**b, "level_label": BudgetLevel(b["level_name"]).label} for b in report["sponsor_budgets"]
    ]
    return render(
        request,
        "reports/dashboard.html",
        {
            "report": report,
            "charts": charts,
            "budget_chart": budget_chart,
            "sponsor_budgets": budgets,
            "picker": region_picker(region, shown=report_regions(), within=scope),
            "region": region,
            "settlements": settlement_figures_by_merchant(
                regions=None if region is None else regions_within(region)
            ),
        },
    )


def open_data_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        city_report(region=_region(request)), json_dumps_params={"ensure_ascii": False}
    )


def open_data_csv(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="carbonpoints-city.csv"'
    writer = csv.writer(response)
    writer.writerow(["section", "figure", "key", "value"])
    writer.writerows(report_rows(city_report(region=_region(request))))
    return response


def _clearing(request: HttpRequest, year: int, month: int) -> Statement:
    """The month's statement, of the lines an operator may see: a city's operator those that
    involve their regions."""
    if not 1 <= month <= 12 or not 2000 <= year <= 9999:
        raise Http404
    report = clearing_statement(month=date(year, month, 1))
    return report.within(operator_regions(request.user))


@staff_member_required
def clearing_now(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    return redirect("operator-clearing", year=today.year, month=today.month)


@staff_member_required
def clearing_page(request: HttpRequest, year: int, month: int) -> HttpResponse:
    """The month's clearing statement between regions, as a page (CSV and PDF beside it)."""
    report = _clearing(request, year, month)
    previous = date(year - (month == 1), (month - 2) % 12 + 1, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return render(
        request,
        "reports/clearing.html",
        {
            "report": report,
            "year": year,
            "month": month,
            "previous": previous,
            "following": following if following <= timezone.localdate() else None,
            **_clearing_rows(report),
        },
    )


def _clearing_rows(report: Statement) -> dict[str, list[dict]]:
    names = {region.code: region.name for region in regions_all()}

    def lines(of: list) -> list[dict]:
        return [
            {
                "owes_name": names.get(line.owes, line.owes),
                "to_name": names.get(line.to, line.to),
                "points": line.points,
                "yuan": line.yuan,
            }
            for line in of
        ]

    regions = [
        {
            "name": names.get(code, code),
            "spent": report.regions[code].spent if code in report.regions else 0,
            "taken": report.taken.get(code, 0),
        }
        for code in sorted(set(report.regions) | set(report.taken))
    ]
    return {"net": lines(report.net), "gross": lines(report.gross), "regions": regions}


@staff_member_required
def clearing_csv(request: HttpRequest, year: int, month: int) -> HttpResponse:
    """The month's clearing statement between regions: who owes whom, in points and yuan."""
    report = _clearing(request, year, month)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="clearing-{year:04d}-{month:02d}.csv"'
    csv.writer(response).writerows(statement_rows(report))
    return response


@staff_member_required
def clearing_pdf_file(request: HttpRequest, year: int, month: int) -> HttpResponse:
    """The same statement as a PDF, in the reader's language."""
    report = _clearing(request, year, month)
    names = {region.code: region.name for region in regions_all()}
    response = HttpResponse(clearing_pdf(report, names=names), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="clearing-{year:04d}-{month:02d}.pdf"'
    return response
