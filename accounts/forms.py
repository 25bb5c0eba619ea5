"""The sign-up form's own field (allauth adds e-mail and password): the citizen's home region,
optional, in the portal's sign-up page and the app's sign-up alike."""

from django import forms
from django.utils.translation import gettext_lazy as _

from carbonpoints.regions.selectors import regions_all

from .services import account_home_region_set


class SignupForm(forms.Form):
    home_region = forms.ChoiceField(
        label=_("Home region"),
        required=False,
        help_text=_(
            "Where you live: your leaderboard and the offers shown first. You can change it later."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["home_region"].choices = [("", "—"), *((r.code, r.name) for r in regions_all())]

    def signup(self, request, user) -> None:
        """Called by allauth once the user (and, by our adapter, their carbon account) exists."""
        region = self.cleaned_data.get("home_region") or None
        account = getattr(user, "carbon_account", None)
        if region and account is not None:
            account_home_region_set(account=account, region=region)
