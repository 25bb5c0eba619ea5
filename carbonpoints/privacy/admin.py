from django.contrib import admin

from .models import DataExport


@admin.register(DataExport)
class DataExportAdmin(admin.ModelAdmin):
    """Operators see that exports run (not what they hold: that is the citizen's)."""

    list_display = ["account", "state", "progress_percent", "attempts", "created_at", "finished_at"]
    list_filter = ["state"]
    exclude = ["document"]
    readonly_fields = [
        "account",
        "state",
        "progress_percent",
        "attempts",
        "created_at",
        "finished_at",
    ]

    def has_add_permission(self, request):
        return False
