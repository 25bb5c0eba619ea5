"""Operators' pages for sponsors and budgets: a budget's ledger figures, forecast and deposits,
and a page to record a deposit (posted to the ledger through ``services.budget_deposit``)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbonpoints.errors import DomainError
from carbonpoints.regions.admin import RegionScopedAdmin
from carbonpoints.regions.authority import in_scope

from .models import Alert, Budget, Deposit, Sponsor
from .selectors import BudgetRow, budget_row, budgets_with_figures
from .services import budget_deposit


@admin.register(Sponsor)
class SponsorAdmin(RegionScopedAdmin):
    """A city's operator sees the sponsors with a budget in their regions, and those with none
    yet (a sponsor has no region of its own: its budgets do)."""

    region_path = "budgets__region"
    region_through_many = True
    region_unplaced = True
    list_display = ["name", "kind", "website", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name"]

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):  # a website typed without a scheme: https
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class DepositInline(admin.TabularInline):
    model = Deposit
    fields = ("created_at", "points", "yuan_fen", "note", "made_by", "ledger_transaction")
    readonly_fields = ("created_at", "points", "yuan_fen", "note", "made_by", "ledger_transaction")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class DepositForm(forms.Form):
    points = forms.IntegerField(label=_("Points"), min_value=1, max_value=10**12)
    yuan = forms.DecimalField(
        label=_("Money paid (CNY)"), min_value=0, max_digits=16, decimal_places=2
    )
    note = forms.CharField(
        label=_("Note"), max_length=200, required=False, widget=forms.TextInput(attrs={"size": 60})
    )


@admin.register(Budget)
class BudgetAdmin(RegionScopedAdmin):
    list_display = [
        "name",
        "sponsor",
        "period",
        "scenes",
        "points_deposited",
        "points_left",
        "level",
        "runs_out",
    ]
    list_filter = ["region", "sponsor"]
    search_fields = ["name", "sponsor__name"]
    list_select_related = ["sponsor"]
    readonly_fields = ["points_deposited", "points_left", "level", "runs_out", "rate"]
    inlines = [DepositInline]
    fieldsets = [
        (None, {"fields": ["sponsor", "name", "region", "starts_at", "ends_at", "actions"]}),
        (
            _("Thresholds and throttle (published)"),
            {
                "fields": [
                    "warn_below_percent",
                    "throttle_below_percent",
                    "throttle",
                    "throttle_factor",
                ]
            },
        ),
        (
            _("From the ledger"),
            {"fields": ["points_deposited", "points_left", "rate", "level", "runs_out"]},
        ),
    ]
    change_form_template = "admin/budgets/budget/change_form.html"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "sponsor":  # the sponsors the operator sees
            condition = in_scope(request.user, "budgets__region", unplaced=True)
            if condition is not None:
                kwargs["queryset"] = Sponsor.objects.filter(condition).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return self.scoped(
            request, budgets_with_figures()
        )  # the ledger's figures and forecast, in one query

    def _row(self, obj: Budget) -> BudgetRow | None:
        return (
            budget_row(obj, timezone.now()) if hasattr(obj, "fen") else None
        )  # None on the add page

    @admin.display(description=_("period"), ordering="starts_at")
    def period(self, obj: Budget) -> str:
        return f"{timezone.localtime(obj.starts_at):%Y-%m-%d} – {timezone.localtime(obj.ends_at):%Y-%m-%d}"

    @admin.display(description=_("scenes"))
    def scenes(self, obj: Budget) -> str:
        return ", ".join(obj.actions or ()) or str(_("every scene"))

    @admin.display(description=_("points deposited"))
    def points_deposited(self, obj: Budget) -> str:
        row = self._row(obj)
        return f"{row.deposited:,}" if row else "0"

    @admin.display(description=_("points left"))
    def points_left(self, obj: Budget) -> str:
        row = self._row(obj)
        return f"{row.balance:,}" if row else "0"

    @admin.display(description=_("level"))
    def level(self, obj: Budget) -> str:
        row = self._row(obj)
        return str(row.level.label) if row else "—"

    @admin.display(description=_("forecast to run out"))
    def runs_out(self, obj: Budget) -> str:
        row = self._row(obj)
        return f"{row.runs_out_at:%Y-%m-%d}" if row and row.runs_out_at else "—"

    @admin.display(description=_("published rate (CNY per point)"))
    def rate(self, obj: Budget) -> str:
        row = self._row(obj)
        return str(row.yuan_per_point) if row and row.yuan_per_point is not None else "—"

    def get_urls(self):
        deposit = self.admin_site.admin_view(self.deposit_view)
        return [
            path("<int:budget_id>/deposit/", deposit, name="budgets_budget_deposit"),
            *super().get_urls(),
        ]

    def deposit_view(self, request, budget_id: int):
        """Record a sponsor's deposit: points and the money paid for them."""
        budget = get_object_or_404(
            self.scoped(request, Budget.objects.select_related("sponsor")), pk=budget_id
        )  # another region's budget: 404, as the operator cannot see it
        if not self.has_change_permission(request, budget):
            return HttpResponseRedirect(reverse("admin:index"))
        form = DepositForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                budget_deposit(
                    budget=budget,
                    points=form.cleaned_data["points"],
                    yuan_fen=int(form.cleaned_data["yuan"] * 100),
                    operator=request.user,
                    note=form.cleaned_data["note"],
                )
            except DomainError as refused:
                form.add_error(None, str(refused))
            else:
                self.message_user(
                    request,
                    _("Deposit of %(points)s points recorded.")
                    % {"points": f"{form.cleaned_data['points']:,}"},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:budgets_budget_change", args=[budget.pk])
                )
        return TemplateResponse(
            request,
            "admin/budgets/budget/deposit.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Deposit into %(budget)s") % {"budget": budget},
                "budget": budget,
                "form": form,
                "opts": self.model._meta,
            },
        )


@admin.register(Alert)
class AlertAdmin(RegionScopedAdmin):
    region_path = "budget__region"
    list_display = ["raised_at", "budget", "level", "balance", "deposited", "runs_out_at"]
    list_filter = ["level", "budget__sponsor"]
    readonly_fields = ["budget", "level", "balance", "deposited", "runs_out_at", "raised_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
