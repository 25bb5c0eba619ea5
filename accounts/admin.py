from allauth.usersessions.admin import UserSessionAdmin as BaseUserSessionAdmin
from allauth.usersessions.models import UserSession
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import CarbonAccount, Level, User
from .selectors import carbon_account_balances


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "display_name", "role", "is_active", "is_staff", "date_joined"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["email", "display_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Profile"), {"fields": ["display_name", "role"]}),
        (
            _("Permissions"),
            {
                "fields": [
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "regions",
                    "groups",
                    "user_permissions",
                ]
            },
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "role", "password1", "password2"]})
    ]


@admin.register(CarbonAccount)
class CarbonAccountAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "opened_at"]
    search_fields = ["user__email"]
    readonly_fields = ["user", "opened_at", "balances"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("balances (from the ledger)"))
    def balances(self, obj):
        b = carbon_account_balances(account=obj)
        return _("%(g)s g CO2e contributed · %(a)s points available · %(p)s pending") % {
            "g": b["reduction_g"],
            "a": b["available"],
            "p": b["pending"],
        }


# allauth's own admin searches sessions by username, which our e-mail-only users do not have.
admin.site.unregister(UserSession)


@admin.register(UserSession)
class UserSessionAdmin(BaseUserSessionAdmin):
    search_fields = ["user__email", "ip"]


@admin.register(Level)
class LevelAdmin(admin.ModelAdmin):
    """Levels of the carbon-account evaluation: thresholds take effect on the next read of each account."""

    list_display = ["code", "name_zh_hans", "name_en", "min_trailing_g"]
    ordering = ["min_trailing_g"]
