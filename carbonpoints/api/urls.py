"""Everything under ``/api/v1/``: each app contributes its own routes."""

from django.urls import include, path
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
    path("", include("accounts.api.urls")),
    path("", include("carbonpoints.earn.api.urls")),
    path("", include("redemption.api.urls")),
    path("", include("carbonpoints.privacy.api.urls")),
    path("", include("carbonpoints.notifications.api.urls")),
    path("", include("carbonpoints.evaluation.api.urls")),
    path("", include("carbonpoints.claims.api.urls")),
    path("", include("carbonpoints.regions.api.urls")),
]
