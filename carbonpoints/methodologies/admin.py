from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from carbonpoints.errors import DomainError
from carbonpoints.regions.admin import RegionScopedAdmin

from . import services
from .models import ConversionRule, Methodology


@admin.register(Methodology)
class MethodologyAdmin(RegionScopedAdmin):
    """A new version ("save as new", or add) is a draft written by the operator who saves it;
    another operator approves it (action), which schedules it after the public notice period and
    ends the version it replaces. An approved version keeps its factors (the model refuses a change)."""

    list_display = [
        "code",
        "version",
        "region",
        "title",
        "status",
        "unit",
        "baseline_g_per_unit",
        "project_g_per_unit",
        "basis",
        "daily_cap",
        "valid_from",
        "valid_until",
        "written_by",
        "approved_by",
    ]
    list_filter = ["status", "region", "code", "basis"]
    search_fields = ["code", "title", "source"]
    readonly_fields = ["status", "written_by", "approved_by", "approved_at", "retired_at"]
    save_as = True
    save_as_continue = False
    actions = ["approve", "withdraw", "retire"]

    def save_model(self, request, obj, form, change):
        if change and obj.status != Methodology.Status.DRAFT:
            super().save_model(request, obj, form, change)  # end of validity, title, source wording
            return
        if not change:
            obj.pk = None
            obj.written_by = None
            obj.approved_by = obj.approved_at = obj.retired_at = None
        services.methodology_draft_save(methodology=obj, author=request.user)

    @admin.action(description=_("Approve (four eyes; schedules after the notice period)"))
    def approve(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda m: services.methodology_approve(methodology=m, approver=request.user),
            _("%(version)s approved: coming from %(start)s."),
        )

    @admin.action(description=_("Retire (no longer quantifies new actions)"))
    def retire(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda m: services.methodology_retire(methodology=m, operator=request.user),
            _("%(version)s retired."),
        )

    @admin.action(
        description=_(
            "Withdraw an approved version not in force yet, back to draft (asks for a reason)"
        )
    )
    def withdraw(self, request, queryset):
        """An intermediate page asks for the reason; each version is withdrawn on its own."""
        versions = list(queryset)
        form = WithdrawForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/methodologies/methodology/withdraw.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Withdraw approved methodology versions"),
                    "versions": versions,
                    "form": form,
                    "opts": self.model._meta,
                },
            )
        reason = form.cleaned_data["reason"]
        self._each(
            request,
            versions,
            lambda m: services.methodology_withdraw(
                methodology=m, operator=request.user, reason=reason
            ),
            _("%(version)s withdrawn: a draft again, no longer announced."),
        )
        return None

    def _each(self, request, queryset, step, done):
        for methodology in queryset:
            try:
                changed = step(methodology)
            except DomainError as error:
                self.message_user(request, f"{methodology}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, done % {"version": changed, "start": changed.valid_from})

    def has_delete_permission(self, request, obj=None):
        return False


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (kept in the audit trail)"),
        max_length=200,
        widget=forms.TextInput(attrs={"size": 60}),
    )


@admin.register(ConversionRule)
class ConversionRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "grams_per_point", "valid_from", "valid_until", "note"]

    def get_readonly_fields(self, request, obj=None):
        return ["grams_per_point", "valid_from"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False
