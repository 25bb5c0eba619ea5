from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from carbonpoints.regions.admin import RegionScopedAdmin

from .models import Claim, PartnerWebhook
from .selectors import claims_overdue


class OverdueFilter(admin.SimpleListFilter):
    """Claims their partner has left unanswered past the deadline (``CLAIMS_PARTNER_DEADLINE_DAYS``)."""

    title = _("partner's answer")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=claims_overdue().values("pk"))
        return queryset


@admin.register(Claim)
class ClaimAdmin(RegionScopedAdmin):
    """A city's operator sees the claims of actions in their regions (the claim's ``region``)."""

    list_display = [
        "id",
        "partner",
        "action",
        "quantity",
        "unit",
        "occurred_at",
        "region",
        "kind",
        "status",
        "created_at",
        "webhook_attempts",
        "webhook_delivered_at",
    ]
    list_filter = [OverdueFilter, "status", "kind", "region", "partner"]
    list_select_related = ["partner"]
    readonly_fields = [f.name for f in Claim._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PartnerWebhook)
class PartnerWebhookAdmin(RegionScopedAdmin):
    region_path = "partner__regions"
    list_display = ["partner", "url", "active"]
