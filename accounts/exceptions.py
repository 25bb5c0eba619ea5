"""Refusals about people and their links: written-out domain errors (``carbonpoints.errors``)."""

from django.utils.translation import gettext_lazy as _

from carbonpoints.errors import Forbidden, Invalid


class NotACitizen(Forbidden):
    code = "not_a_citizen"
    message = _("Only citizens have a carbon account.")


class UnknownRegion(Invalid):
    code = "unknown_region"
    message = _("No such region: give a GB/T 2260 code the platform knows (GET /api/v1/regions).")
