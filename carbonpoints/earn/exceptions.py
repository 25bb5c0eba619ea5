"""Refusals of the earn side's citizen and partner API: written-out domain errors."""

from django.utils.translation import gettext_lazy as _

from carbonpoints.errors import Invalid, NotFound


class ConsentRequired(Invalid):
    code = "consent_required"
    message = _("Linking needs your consent.")


class UnknownPartner(Invalid):
    code = "unknown_partner"
    message = _("No such partner.")


class RecordNotFound(NotFound):
    message = _("No record with this external id.")
