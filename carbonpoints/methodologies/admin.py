from django.contrib import admin

from .models import ConversionRule, Methodology

FACTOR_FIELDS = [
    "code", "version", "unit", "baseline_g_per_unit", "project_g_per_unit",
    "max_quantity_per_record", "fixed_quantity", "max_speed_kmh", "daily_cap", "monthly_cap",
    "valid_from",
]


@admin.register(Methodology)
class MethodologyAdmin(admin.ModelAdmin):
    """A saved version keeps its factors: change them by "save as new" with a later validity."""

    list_display = ["code", "version", "title", "unit", "baseline_g_per_unit", "project_g_per_unit",
                    "basis", "daily_cap", "valid_from", "valid_until"]
    list_filter = ["code", "basis"]
    search_fields = ["code", "title", "source"]
    save_as = True

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and "_saveasnew" not in request.POST:
            return FACTOR_FIELDS
        return []

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConversionRule)
class ConversionRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "grams_per_point", "valid_from", "valid_until", "note"]

    def get_readonly_fields(self, request, obj=None):
        return ["grams_per_point", "valid_from"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False


