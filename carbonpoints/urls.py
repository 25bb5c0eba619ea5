from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from carbonpoints.api.health import healthz
from carbonpoints.methodologies.views import register as methodology_register

# The operators' admin in the product's name and language (Django's default header is "Django 管理").
admin.site.site_header = admin.site.site_title = _("CarbonPoints operations")
admin.site.index_title = _("Operations")

urlpatterns = [
    # The API first: Django tries the patterns in order, and a request under /api/v1/ used to
    # fail through every pattern above it (the reports' include among them) before its own:
    # 12 % of a sold-out redemption's CPU. No pattern below starts with "api/".
    path("api/v1/", include("carbonpoints.api.urls")),
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("healthz", healthz, name="healthz"),
    path("methodologies/", methodology_register, name="methodologies"),
    path("", include("carbonpoints.reports.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("carbonpoints.portal.urls")),
    path("", include("redemption.urls")),
]

handler400 = "carbonpoints.api.errors.bad_request"
handler403 = "carbonpoints.api.errors.permission_denied"
handler404 = "carbonpoints.api.errors.page_not_found"
handler500 = "carbonpoints.api.errors.server_error"

if settings.BENCH_FLOOR:  # bench/api's framework floor: never on in production
    from carbonpoints.api.floor import FLOOR_PATH, FloorView

    urlpatterns.insert(0, path(FLOOR_PATH, FloorView.as_view(), name="bench-floor"))

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
