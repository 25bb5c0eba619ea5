"""The public register of methodologies: no sign-in, since anyone may check how grams are counted."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from carbonpoints.budgets.selectors import budget_rows
from carbonpoints.regions.selectors import region_picker

from .selectors import methodologies_published, methodology_regions


def register(request: HttpRequest) -> HttpResponse:
    """The register of a region (``?region=``, a GB/T 2260 code; the default region without one)."""
    picker = region_picker(request.GET.get("region"), shown=methodology_regions())
    return render(
        request,
        "methodologies/register.html",
        {
            "register": methodologies_published(region=picker.current),
            "notice_days": settings.METHODOLOGY_NOTICE_DAYS,
            "budgets": budget_rows(current_only=True),
            "picker": picker,
        },
    )
