"""Refusals of a citizen's PIPL rights: written-out domain errors."""

from django.utils.translation import gettext_lazy as _

from carbonpoints.errors import Conflict, Forbidden, NotFound
from carbonpoints.privacy.error_codes import PrivacyErrorCode


class PasswordIncorrect(Forbidden):
    """The password given to confirm a deletion is not the account's."""

    code = PrivacyErrorCode.PASSWORD_INCORRECT
    message = _("The password is not correct.")


class AccountAlreadyDeleted(Forbidden):
    code = PrivacyErrorCode.ACCOUNT_DELETED
    message = _("This account was deleted.")


class ExportNotFound(NotFound):
    message = _("Not found.")


class ExportNotReady(Conflict):
    """A worker is still building it (``details["progress_percent"]``)."""

    code = PrivacyErrorCode.EXPORT_NOT_READY
    message = _("The export is not ready yet.")
