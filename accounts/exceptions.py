"""Refusals about people and their accounts: written-out domain errors (``carbonpoints.errors``)."""

from django.utils.translation import gettext_lazy as _

from accounts.error_codes import AccountErrorCode
from carbonpoints.errors import Forbidden


class NotACitizen(Forbidden):
    code = AccountErrorCode.NOT_A_CITIZEN
    message = _("Only citizens have a carbon account.")
