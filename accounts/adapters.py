from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction
from django.urls import reverse

from .models import Role
from .services import carbon_account_open

HOME_BY_ROLE = {
    Role.CITIZEN: "my-account",
    Role.MERCHANT_STAFF: "merchant-till",
    Role.OPERATOR: "admin:index",
}


class AccountAdapter(DefaultAccountAdapter):
    """Every citizen who signs up, through the portal or the app, gets a carbon account; each
    person who signs in on the web lands on the page of their role."""

    def get_login_redirect_url(self, request):
        return reverse(HOME_BY_ROLE.get(request.user.role, "home"))

    def save_user(self, request, user, form, commit=True):
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if commit:
                carbon_account_open(user=user)
        return user
