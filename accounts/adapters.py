from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction

from .services import carbon_account_open


class AccountAdapter(DefaultAccountAdapter):
    """Every citizen who signs up, through the portal or the app, gets a carbon account."""

    def save_user(self, request, user, form, commit=True):
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if commit:
                carbon_account_open(user=user)
        return user
