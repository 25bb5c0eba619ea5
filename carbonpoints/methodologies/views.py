"""The public register of methodologies: no sign-in, since anyone may check how grams are counted."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from carbonpoints.budgets.selectors import budget_rows

from .selectors import methodologies_published


def register(request: HttpRequest) -> HttpResponse:
    return render(request, "methodologies/register.html", {
        "register": methodologies_published(), "notice_days": settings.METHODOLOGY_NOTICE_DAYS,
        "budgets": budget_rows(current_only=True),
    })
