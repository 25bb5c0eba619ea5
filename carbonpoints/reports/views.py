"""The operators' dashboard (staff only) and the same figures as open data (JSON and CSV)."""

from __future__ import annotations

import csv

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from carbonpoints.budgets.models import BudgetLevel
from carbonpoints.earn.selectors import scene_titles
from carbonpoints.names import local_name

from .selectors import city_report, report_rows

UNKNOWN_DISTRICT = "unknown"


def _chart(rows: list[dict], key: str, label: str, names=local_name) -> dict:
    """A bar chart's data; its labels are names in the reader's language (short, so they do not overlap)."""
    return {"labels": [names(str(row[key])) for row in rows], "values": [round(row["grams"] / 1000, 3) for row in rows],
            "label": label, "unit": "kg CO2e"}


def _budget_chart(budgets: list[dict]) -> dict:
    return {"labels": [local_name(b["sponsor"]) for b in budgets],
            "values": [round(100 * b["points_left"] / b["points_deposited"], 1) if b["points_deposited"] else 0
                       for b in budgets],
            "label": _("Budget left"), "unit": "%"}


@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    report = city_report()
    city = report["city"]
    charts = {
        "chart-month": _chart(city["reductions_by_month"], "month", _("Reductions by month")),
        "chart-scene": _chart(city["reductions_by_scene"], "scene", _("Reductions by scene"),
                              names=lambda code: scene_titles(codes=[code], local=True)[code]),
        "chart-partner": _chart(city["reductions_by_partner"], "partner", _("Reductions by partner")),
    }
    districts = city["reductions_by_district"]
    if any(row["district"] != UNKNOWN_DISTRICT for row in districts):  # one bar of “unknown” says nothing
        charts["chart-district"] = _chart(districts, "district", _("Reductions by district"))
    budget_chart = _budget_chart(report["sponsor_budgets"])
    budgets = [{**b, "level_label": BudgetLevel(b["level_name"]).label} for b in report["sponsor_budgets"]]
    return render(request, "reports/dashboard.html", {"report": report, "charts": charts, "budget_chart": budget_chart,
                                                      "sponsor_budgets": budgets})


def open_data_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(city_report(), json_dumps_params={"ensure_ascii": False})


def open_data_csv(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="carbonpoints-city.csv"'
    writer = csv.writer(response)
    writer.writerow(["section", "figure", "key", "value"])
    writer.writerows(report_rows(city_report()))
    return response
