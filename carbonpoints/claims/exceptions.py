"""Refusals of claims: written-out domain errors."""

from django.utils.translation import gettext_lazy as _

from carbonpoints.claims.error_codes import ClaimErrorCode
from carbonpoints.errors import Conflict, Invalid, NotFound


class ClaimNotFound(NotFound):
    message = _("No such claim.")


class NotLinked(Invalid):
    code = ClaimErrorCode.NOT_LINKED
    message = _("Link your account at this partner (with consent for this scene) before you claim.")


class ActionNotOffered(Invalid):
    code = ClaimErrorCode.UNKNOWN_ACTION
    message = _("This partner does not offer this action.")


class OccurredAtInvalid(Invalid):
    code = ClaimErrorCode.INVALID_OCCURRED_AT
    message = _("The time must be in the past, within the backfill window.")


class QuantityInvalid(Invalid):
    code = ClaimErrorCode.INVALID_QUANTITY
    message = _("The quantity must be more than zero.")


class QuantityImplausible(Invalid):
    """More than the methodology finds plausible for one action (its ``max_quantity_per_record``)."""

    code = ClaimErrorCode.QUANTITY_IMPLAUSIBLE
    message = _("This quantity is more than one action can plausibly be.")


class ClaimRepeated(Conflict):
    code = ClaimErrorCode.CLAIM_REPEATED
    message = _("You have claimed this action already: its claim is pending or confirmed.")


class EvidenceInvalid(Invalid):
    code = ClaimErrorCode.INVALID_EVIDENCE
    message = _("The evidence must be a JPEG, PNG or WebP image of at most the allowed size.")


class SelfReportNotAllowed(Invalid):
    code = ClaimErrorCode.SELF_REPORT_NOT_ALLOWED
    message = _("This scene does not accept self-reported actions.")


class RegionRequired(Invalid):
    code = ClaimErrorCode.REGION_REQUIRED
    message = _("This partner serves several regions: say where the action happened.")


class RegionNotApproved(Invalid):
    code = ClaimErrorCode.REGION_NOT_APPROVED
    message = _("This partner does not serve the region you named.")


class ClaimAlreadyDecided(Conflict):
    code = ClaimErrorCode.CLAIM_ALREADY_DECIDED
    message = _("This claim was already confirmed or denied.")
