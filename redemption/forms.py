"""Console forms: they validate what staff type; the services do the work."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import MerchantStaff, Scenario


class VoucherConsumeForm(forms.Form):
    code = forms.CharField(
        label=_("Voucher code"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )


class CheckoutForm(forms.Form):
    payment_code = forms.CharField(
        label=_("Citizen's payment code"),
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    amount_yuan = forms.DecimalField(
        label=_("Order amount (CNY)"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )
    points = forms.IntegerField(label=_("Points to use"), min_value=1)

    def amount_fen(self) -> int:
        return int(self.cleaned_data["amount_yuan"] * 100)


class ScenarioForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Scenario.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=120)
    points_cost = forms.IntegerField(label=_("Points cost"), min_value=1, required=False)
    points_per_yuan = forms.IntegerField(label=_("Points per yuan"), min_value=1, required=False)
    max_share = forms.DecimalField(
        label=_("Largest share of a price (0–1)"),
        min_value=Decimal("0.0001"),
        max_value=Decimal("1"),
        decimal_places=4,
        required=False,
    )
    stock = forms.IntegerField(label=_("Stock (empty: unlimited)"), min_value=0, required=False)
    per_citizen_limit = forms.IntegerField(
        label=_("Limit per citizen"), min_value=1, required=False
    )
    per_citizen_daily_limit = forms.IntegerField(
        label=_("Limit per citizen per day"), min_value=1, required=False
    )
    province_wide = forms.BooleanField(
        label=_("Offer it in every city of the province"),
        help_text=_("An operator approves it first."),
        required=False,
    )

    def __init__(self, *args, regions: bool = False, **kwargs):
        """``regions``: merchants trade in more than one region (else nothing to offer)."""
        super().__init__(*args, **kwargs)
        if not regions:
            del self.fields["province_wide"]

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        share = data.pop("max_share")
        data["max_share_bp"] = None if share is None else int(share * 10_000)
        return data


class OffsetForm(forms.Form):
    grams = forms.IntegerField(label=_("Grams CO2e to retire"), min_value=1)
    purpose = forms.CharField(label=_("Purpose"), max_length=255)
    vintage = forms.RegexField(
        label=_("Vintage (YYYY-MM, optional)"), regex=r"^\d{4}-(0[1-9]|1[0-2])$", required=False
    )

    def vintage_number(self) -> int | None:
        vintage = self.cleaned_data.get("vintage")
        return int(vintage.replace("-", "")) if vintage else None


class StaffForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    role = forms.ChoiceField(
        label=_("Role"), choices=MerchantStaff.Role.choices, initial=MerchantStaff.Role.CASHIER
    )
