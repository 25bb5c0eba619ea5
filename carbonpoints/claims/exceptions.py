"""Refusals of claims: written-out domain errors."""

from django.utils.translation import gettext_lazy as _

from carbonpoints.errors import Conflict, Invalid, NotFound


class ClaimNotFound(NotFound):
    message = _("No such claim.")


class NotLinked(Invalid):
    code = "not_linked"
    message = _("Link your account at this partner (with consent for this scene) before you claim.")


class ActionNotOffered(Invalid):
    code = "unknown_action"
    message = _("This partner does not offer this action.")


class OccurredAtInvalid(Invalid):
    code = "invalid_occurred_at"
    message = _("The time must be in the past, within the backfill window.")


class QuantityInvalid(Invalid):
    code = "invalid_quantity"
    message = _("The quantity must be more than zero.")


class QuantityImplausible(Invalid):
    """More than the methodology finds plausible for one action (its ``max_quantity_per_record``)."""

    code = "quantity_implausible"
    message = _("This quantity is more than one action can plausibly be.")


class ClaimRepeated(Conflict):
    code = "claim_repeated"
    message = _("You have claimed this action already: its claim is pending or confirmed.")


class EvidenceInvalid(Invalid):
    code = "invalid_evidence"
    message = _("The evidence must be a JPEG, PNG or WebP image of at most the allowed size.")


class SelfReportNotAllowed(Invalid):
    code = "self_report_not_allowed"
    message = _("This scene does not accept self-reported actions.")


class ClaimAlreadyDecided(Conflict):
    code = "claim_already_decided"
    message = _("This claim was already confirmed or denied.")
