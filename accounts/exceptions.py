"""Refusals about people and their links: written-out domain errors (``carbonpoints.errors``)."""

from django.utils.translation import gettext_lazy as _

from carbonpoints.errors import Conflict, Forbidden


class NotACitizen(Forbidden):
    code = "not_a_citizen"
    message = _("Only citizens have a carbon account.")


class SubjectAlreadyLinked(Conflict):
    """Another carbon account holds an active link to this member id at this partner."""

    code = "subject_already_linked"
    message = _("This member id is linked to another account.")
