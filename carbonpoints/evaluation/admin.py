from django.contrib import admin

from .models import Badge, BadgeAward


@admin.register(Badge)
class BadgeAdmin(admin.ModelAdmin):
    """Badges are data: a rule (streak, variety, milestone) and its threshold; awarded by a periodic task."""

    list_display = ["code", "name_zh_hans", "name_en", "rule", "threshold", "active"]
    list_filter = ["rule", "active"]


@admin.register(BadgeAward)
class BadgeAwardAdmin(admin.ModelAdmin):
    list_display = ["account", "badge", "awarded_at"]
    list_filter = ["badge"]
    readonly_fields = ["account", "badge", "awarded_at"]

    def has_add_permission(self, request):
        return False
