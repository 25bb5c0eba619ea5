from allauth.usersessions.admin import UserSessionAdmin as BaseUserSessionAdmin
from allauth.usersessions.models import UserSession
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from carbonpoints.regions.authority import operator_regions
from carbonpoints.regions.models import Region

from .models import CarbonAccount, Level, User
from .selectors import carbon_account_balances

PERMISSION_FIELDS = ["is_staff", "is_superuser", "regions", "groups", "user_permissions"]


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

    # A city's operator neither sees the operators of other regions (nor the provincial ones) nor
    # changes anyone's permissions or regions: a provincial operator does (no way to widen one's
    # own authority).
    def get_queryset(self, request):
        users = super().get_queryset(request)
        scope = operator_regions(request.user)
        if scope is None:
            return users
        outside = User.objects.filter(is_staff=True).filter(
            Q(regions__isnull=True) | Q(regions__in=Region.objects.exclude(code__in=scope))
        )
        return users.exclude(pk__in=outside.values("pk"))

    def get_object(self, request, object_id, from_field=None):
        found = super().get_object(request, object_id, from_field)
        if found is None and operator_regions(request.user) is not None:
            raise PermissionDenied
        return found

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and operator_regions(request.user) is not None:
            readonly += PERMISSION_FIELDS
        return readonly


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
