from django.contrib import admin

from .models import Merchant, MerchantStaff


class MerchantStaffInline(admin.TabularInline):
    model = MerchantStaff
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["name"]
    inlines = [MerchantStaffInline]
    actions = ["approve", "suspend"]

    @admin.action(description="Approve the selected merchants")
    def approve(self, request, queryset):
        queryset.update(status=Merchant.Status.APPROVED)

    @admin.action(description="Suspend the selected merchants")
    def suspend(self, request, queryset):
        queryset.update(status=Merchant.Status.SUSPENDED)


@admin.register(MerchantStaff)
class MerchantStaffAdmin(admin.ModelAdmin):
    list_display = ["user", "merchant", "role", "added_at"]
    list_filter = ["role", "merchant"]
    search_fields = ["user__email", "merchant__name"]
    raw_id_fields = ["user"]
