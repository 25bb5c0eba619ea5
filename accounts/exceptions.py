"""Refusals about people and their links: written-out domain errors (``carbonpoints.errors``)."""

from django.utils.translation import gettext_lazy as _

from carbonpoints.errors import Forbidden


class NotACitizen(Forbidden):
    code = "not_a_citizen"
    message = _("Only citizens have a carbon account.")
