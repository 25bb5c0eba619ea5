"""Everything under ``/api/v1/``: each app contributes its own routes."""

from importlib import import_module

from django.urls import path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # the split view serves its start-up script from a URL, not inline, so the CSP needs no exception
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    # Each app's routes, in this order, in this one list rather than each behind its own
    # ``include("")``: the same URLs, names and order, but a request no longer fails through
    # every app before its own (a raised and caught Resolver404 per app passed: 3 % of the
    # account page's CPU, more for the apps further down).
    *(
        route
        for app in (
            "accounts.api.urls",
            "carbonpoints.earn.api.urls",
            "redemption.api.urls",
            "carbonpoints.privacy.api.urls",
            "carbonpoints.notifications.api.urls",
            "carbonpoints.evaluation.api.urls",
            "carbonpoints.claims.api.urls",
            "carbonpoints.regions.api.urls",
        )
        for route in import_module(app).urlpatterns
    ),
]
