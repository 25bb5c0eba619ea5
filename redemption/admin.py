from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from carbonpoints.errors import DomainError
from carbonpoints.regions import codes
from carbonpoints.regions.admin import RegionScopedAdmin
from carbonpoints.regions.authority import OutsideRegion, has_authority

from .exceptions import SpendRefused
from .models import (
    Checkout,
    IdempotentAnswer,
    Merchant,
    MerchantStaff,
    OffsetCertificate,
    PaymentCode,
    Redemption,
    Scenario,
    Settlement,
    SettlementLine,
    Store,
    UnitBlock,
    Voucher,
)
from .services import merchant_approve, merchant_status_set, scenario_transition


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by services (and mirrored in the ledger): operators look, never edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MerchantStaffInline(admin.TabularInline):
    model = MerchantStaff
    extra = 0
    raw_id_fields = ["user"]


class StoreInline(admin.TabularInline):
    model = Store
    extra = 0


@admin.register(Merchant)
class MerchantAdmin(RegionScopedAdmin):
    """A merchant added here is a draft (pending) written by this operator; another approves it."""

    list_display = ["name", "region", "status", "written_by", "approved_by", "created_at"]
    list_filter = ["status", "region"]
    search_fields = ["name"]
    readonly_fields = ["status", "written_by", "approved_by", "approved_at", "created_at"]
    inlines = [StoreInline, MerchantStaffInline]
    actions = ["approve", "suspend"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.status, obj.written_by = Merchant.Status.PENDING, request.user
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Approve the selected merchants (four eyes)"))
    def approve(self, request, queryset):
        for merchant in queryset:
            try:
                merchant_approve(merchant=merchant, approver=request.user)
            except DomainError as refusal:
                self.message_user(request, f"{merchant}: {refusal}", messages.ERROR)

    @admin.action(description=_("Suspend the selected merchants"))
    def suspend(self, request, queryset):
        for merchant in queryset:
            merchant_status_set(
                merchant=merchant, status=Merchant.Status.SUSPENDED, actor=request.user
            )


@admin.register(MerchantStaff)
class MerchantStaffAdmin(RegionScopedAdmin):
    region_path = "merchant__region"
    list_display = ["user", "merchant", "role", "store", "added_at"]
    list_filter = ["role", "merchant"]
    search_fields = ["user__email", "merchant__name"]
    raw_id_fields = ["user"]


@admin.register(Scenario)
class ScenarioAdmin(RegionScopedAdmin):
    region_path = "merchant__region"
    list_display = [
        "title",
        "merchant",
        "kind",
        "status",
        "points_cost",
        "stock_left",
        "stock",
        "valid_until",
    ]
    list_filter = ["status", "kind", "province_wide", "merchant"]
    search_fields = ["title", "merchant__name"]
    readonly_fields = ["stock_left", "status", "created_at"]
    actions = ["approve", "reject", "pause", "cancel"]

    def get_readonly_fields(self, request, obj=None):
        """Offering a scenario province-wide is for an operator of the province to decide."""
        readonly = list(super().get_readonly_fields(request, obj))
        region = obj.merchant.region_id if obj is not None else None
        if not has_authority(request.user, codes.province_of(region)):
            readonly.append("province_wide")
        return readonly

    def _transition(self, request, queryset, action):
        for scenario in queryset:
            try:
                scenario_transition(scenario=scenario, action=action, actor=request.user)
            except (SpendRefused, OutsideRegion) as refusal:
                self.message_user(request, f"{scenario}: {refusal}", messages.WARNING)

    @admin.action(description=_("Approve the selected scenarios (operator review)"))
    def approve(self, request, queryset):
        self._transition(request, queryset, "approve")

    @admin.action(description=_("Reject the selected scenarios"))
    def reject(self, request, queryset):
        self._transition(request, queryset, "reject")

    @admin.action(description=_("Pause the selected scenarios"))
    def pause(self, request, queryset):
        self._transition(request, queryset, "pause")

    @admin.action(description=_("Cancel the selected scenarios and refund their vouchers"))
    def cancel(self, request, queryset):
        self._transition(request, queryset, "cancel")


@admin.register(Redemption)
class RedemptionAdmin(RegionScopedAdmin, ReadOnlyAdmin):
    region_path = "scenario__merchant__region"
    list_display = ["id", "scenario", "citizen", "points_spent", "status", "created_at"]
    list_filter = ["status", "scenario__kind"]
    search_fields = ["citizen__user__email", "scenario__title"]
    list_select_related = ["scenario__merchant", "citizen__user"]


@admin.register(Voucher)
class VoucherAdmin(RegionScopedAdmin, ReadOnlyAdmin):
    region_path = "redemption__scenario__merchant__region"
    list_display = ["code", "redemption", "expires_at", "consumed_at", "expired_at"]
    search_fields = ["code"]
    list_select_related = ["redemption__scenario__merchant"]


@admin.register(Checkout)
class CheckoutAdmin(RegionScopedAdmin, ReadOnlyAdmin):
    region_path = "merchant__region"
    list_display = [
        "id",
        "merchant",
        "amount_fen",
        "points_used",
        "discount_fen",
        "status",
        "created_at",
    ]
    list_filter = ["status", "merchant"]


@admin.register(PaymentCode)
class PaymentCodeAdmin(ReadOnlyAdmin):
    list_display = ["id", "citizen", "created_at", "expires_at", "used_at"]


class SettlementLineInline(admin.TabularInline):
    """The payments a statement settles, each with its rate: written once by the settlement."""

    model = SettlementLine
    extra = 0
    can_delete = False
    fields = (
        "occurred_at",
        "kind",
        "reference",
        "spend_tx",
        "points",
        "rate_yuan_per_point",
        "rate_source",
        "amount_fen",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Settlement)
class SettlementAdmin(RegionScopedAdmin, ReadOnlyAdmin):
    region_path = "merchant__region"
    list_display = [
        "merchant",
        "day",
        "vouchers_consumed",
        "checkouts",
        "points_total",
        "amount_fen",
        "ledger_tx",
    ]
    list_filter = ["merchant"]
    date_hierarchy = "day"
    inlines = [SettlementLineInline]


@admin.register(UnitBlock)
class UnitBlockAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "methodology_code", "vintage", "grams", "certificate"]
    list_filter = ["methodology_code", "vintage"]


@admin.register(OffsetCertificate)
class OffsetCertificateAdmin(RegionScopedAdmin, ReadOnlyAdmin):
    region_path = "merchant__region"
    list_display = ["id", "merchant", "grams", "purpose", "created_at"]
    list_filter = ["merchant"]


@admin.register(IdempotentAnswer)
class IdempotentAnswerAdmin(ReadOnlyAdmin):
    list_display = ["user", "scope", "key", "status_code", "created_at"]
    search_fields = ["key", "user__email"]
