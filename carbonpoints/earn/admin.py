from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from carbonpoints.errors import DomainError
from carbonpoints.regions.admin import RegionScopedAdmin
from carbonpoints.regions.authority import OutsideRegion

from .corrections import action_correct, action_reverse
from .models import (
    ActionRecord,
    ActionState,
    Batch,
    CitizenCarry,
    ConsentChange,
    IdentityLink,
    Partner,
    PartnerKey,
    ReviewDecision,
    Upload,
)
from .selectors import explanation
from .services import partner_approve, partner_key_rotate, partner_status_set, record_review


class PartnerKeyInline(admin.TabularInline):
    model = PartnerKey
    extra = 0
    fields = ["key_id", "created_at", "expires_at"]
    readonly_fields = ["key_id", "created_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Partner)
class PartnerAdmin(RegionScopedAdmin):
    """A partner added here is a draft written by this operator: another approves it (four eyes),
    then rotates its first key. ``create_partner`` (the command line) makes one in force at once."""

    region_path = "regions"
    list_display = ["name", "status", "actions", "written_by", "approved_by", "created_at"]
    list_filter = ["status", "regions"]
    search_fields = ["name"]
    readonly_fields = ["status", "written_by", "approved_by", "approved_at", "created_at"]
    inlines = [PartnerKeyInline]
    actions = ["approve", "rotate_key", "disable", "enable"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.status, obj.written_by = Partner.Status.DRAFT, request.user
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Approve the selected draft partners (four eyes)"))
    def approve(self, request, queryset):
        for partner in queryset:
            try:
                partner_approve(partner=partner, approver=request.user)
            except DomainError as refusal:
                self.message_user(request, f"{partner}: {refusal}", messages.ERROR)

    @admin.action(description=_("Rotate the key (old keys keep working for the overlap window)"))
    def rotate_key(self, request, queryset):
        for partner in queryset:
            if not self.has_change_permission(request, partner):  # of a region not theirs too
                self.message_user(request, f"{partner}: {OutsideRegion.message}", messages.ERROR)
                continue
            key, secret = partner_key_rotate(partner=partner)
            self.message_user(
                request,
                _("%(partner)s: new key %(key)s, secret (shown once): %(secret)s")
                % {"partner": partner, "key": key.key_id, "secret": secret},
                messages.WARNING,
            )

    @admin.action(description=_("Disable (its keys stop working)"))
    def disable(self, request, queryset):
        self._status_set(request, queryset, Partner.Status.DISABLED)

    def _status_set(self, request, queryset, status):
        for partner in queryset:
            try:
                partner_status_set(partner=partner, status=status, actor=request.user)
            except DomainError as refusal:  # a partner of a region not theirs too
                self.message_user(request, f"{partner}: {refusal}", messages.ERROR)

    @admin.action(description=_("Enable"))
    def enable(self, request, queryset):
        self._status_set(request, queryset, Partner.Status.ACTIVE)


@admin.register(Batch)
class BatchAdmin(RegionScopedAdmin):
    region_path = "partner__regions"
    list_display = [
        "id",
        "partner",
        "source",
        "received",
        "accepted",
        "duplicates",
        "rejected",
        "created_at",
        "last_run_at",
    ]
    list_filter = ["source", "partner"]
    readonly_fields = [f.name for f in Batch._meta.fields]

    def has_add_permission(self, request):
        return False


class ReviewDecisionInline(admin.TabularInline):
    model = ReviewDecision
    extra = 0
    readonly_fields = ["operator", "decision", "previous_state", "reason", "decided_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ActionRecord)
class ActionRecordAdmin(RegionScopedAdmin):
    """Operators review the flagged queue here (filter state = flagged) and approve or reject."""

    list_display = [
        "id",
        "partner",
        "external_id",
        "action",
        "quantity",
        "occurred_at",
        "state",
        "reason",
        "capped",
        "credited_g",
        "points",
    ]
    list_filter = ["state", "action", "region", "capped", "partner", "review"]
    search_fields = ["external_id", "subject"]
    date_hierarchy = "occurred_at"
    list_select_related = ["partner"]
    readonly_fields = [f.name for f in ActionRecord._meta.fields] + ["why"]
    exclude = ["explanation"]
    inlines = [ReviewDecisionInline]
    actions = ["approve", "reject", "reverse", "correct_quantity"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("explanation"))
    def why(self, obj):
        return explanation(obj)

    def _review(self, request, queryset, approve):
        done = 0
        for record in queryset.filter(state=ActionState.FLAGGED):
            record_review(record=record, operator=request.user, approve=approve)
            done += 1
        self.message_user(request, _("%(n)s flagged records reviewed.") % {"n": done})

    @admin.action(description=_("Approve flagged records (verify and credit them)"))
    def approve(self, request, queryset):
        self._review(request, queryset, True)

    @admin.action(description=_("Reject flagged records"))
    def reject(self, request, queryset):
        self._review(request, queryset, False)

    @admin.action(description=_("Reverse credited actions (asks for a reason)"))
    def reverse(self, request, queryset):
        """An intermediate page asks for the reason; each record is reversed on its own."""
        records = list(queryset.filter(state=ActionState.CREDITED).select_related("partner"))
        form = ReverseForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/earn/actionrecord/reverse.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Reverse credited actions"),
                    "records": records,
                    "form": form,
                    "opts": self.model._meta,
                },
            )
        done = 0
        for record in records:
            try:
                action_reverse(
                    record=record, operator=request.user, reason=form.cleaned_data["reason"]
                )
                done += 1
            except DomainError as refused:
                self.message_user(request, f"{record}: {refused}", messages.ERROR)
        self.message_user(request, _("%(n)s actions reversed.") % {"n": done})
        return None

    @admin.action(
        description=_(
            "Correct the quantity of a credited action (one at a time, asks for a reason)"
        )
    )
    def correct_quantity(self, request, queryset):
        """An intermediate page asks for the new quantity and the reason; the record is reversed,
        then decided again with it by the pipeline's rules (``corrections.action_correct``)."""
        records = list(queryset.select_related("partner")[:2])
        if len(records) != 1:
            self.message_user(
                request, _("Select exactly one action record to correct."), messages.WARNING
            )
            return None
        record = records[0]
        form = CorrectForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/earn/actionrecord/correct.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Correct the quantity of an action"),
                    "record": record,
                    "form": form,
                    "opts": self.model._meta,
                },
            )
        try:
            corrected = action_correct(
                record=record,
                quantity=form.cleaned_data["quantity"],
                operator=request.user,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as refused:
            self.message_user(request, f"{record}: {refused}", messages.ERROR)
            return None
        self.message_user(
            request,
            _(
                "%(record)s corrected to %(quantity)s %(unit)s: now %(state)s, %(grams)s g, "
                "%(points)s points."
            )
            % {
                "record": corrected,
                "quantity": format(corrected.quantity.normalize(), "f"),
                "unit": corrected.unit,
                "state": corrected.get_state_display(),
                "grams": corrected.credited_g or 0,
                "points": corrected.points or 0,
            },
        )
        return None


class ReverseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (the citizen sees it)"),
        max_length=200,
        widget=forms.TextInput(attrs={"size": 60}),
    )


class CorrectForm(ReverseForm):
    quantity = forms.DecimalField(
        label=_("Corrected quantity"),
        min_value=Decimal("0.000001"),
        max_digits=20,
        decimal_places=6,
    )
    field_order = ["quantity", "reason"]


@admin.register(Upload)
class UploadAdmin(RegionScopedAdmin):
    region_path = "partner__regions"
    list_display = [
        "id",
        "partner",
        "format",
        "gzipped",
        "size",
        "state",
        "lines_done",
        "lines_total",
        "created_at",
    ]
    list_filter = ["state", "format"]
    exclude = ["content"]
    readonly_fields = [
        "partner",
        "format",
        "gzipped",
        "size",
        "state",
        "batch",
        "lines_total",
        "lines_done",
        "error",
        "attempts",
        "created_at",
        "finished_at",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(CitizenCarry)
class CitizenCarryAdmin(admin.ModelAdmin):
    list_display = ["account", "remainder_g"]
    readonly_fields = ["account", "remainder_g"]

    def has_add_permission(self, request):
        return False


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(RegionScopedAdmin):
    region_path = "record__region"
    list_display = ["record", "operator", "decision", "previous_state", "decided_at"]
    readonly_fields = ["record", "operator", "decision", "previous_state", "reason", "decided_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PartnerKey)
class PartnerKeyAdmin(RegionScopedAdmin):
    region_path = "partner__regions"
    """Key ids and their validity; secrets are never shown (rotate from the partner's page)."""

    list_display = ["key_id", "partner", "created_at", "expires_at"]
    list_filter = ["partner"]
    fields = ["partner", "key_id", "created_at", "expires_at"]
    readonly_fields = ["partner", "key_id", "created_at"]

    def has_add_permission(self, request):
        return False


class ConsentChangeInline(admin.TabularInline):
    model = ConsentChange
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "at", "scenes", "wording"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(IdentityLink)
class IdentityLinkAdmin(RegionScopedAdmin):
    region_path = "partner__regions"
    list_display = ["account", "partner", "subject", "consented_at", "revoked_at"]
    list_filter = ["partner"]
    list_select_related = ["account__user", "partner"]
    search_fields = ["subject", "account__user__email"]
    readonly_fields = [
        "account",
        "partner",
        "subject",
        "scenes",
        "consent_wording",
        "consented_at",
        "revoked_at",
    ]
    inlines = [ConsentChangeInline]

    def has_add_permission(self, request):
        return False
