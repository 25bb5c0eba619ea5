from django.contrib import admin

from .models import ConversionRule, Methodology


@admin.register(Methodology)
class MethodologyAdmin(admin.ModelAdmin):
    """A saved version keeps its factors (the model refuses a change): "save as new" makes the next
    version, after the old one's "valid until" is set to the new "valid from"."""

    list_display = ["code", "version", "title", "unit", "baseline_g_per_unit", "project_g_per_unit",
                    "basis", "daily_cap", "valid_from", "valid_until"]
    list_filter = ["code", "basis"]
    search_fields = ["code", "title", "source"]
    save_as = True
    save_as_continue = False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConversionRule)
class ConversionRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "grams_per_point", "valid_from", "valid_until", "note"]

    def get_readonly_fields(self, request, obj=None):
        return ["grams_per_point", "valid_from"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False


