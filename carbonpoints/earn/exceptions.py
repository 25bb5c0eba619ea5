"""Refusals of the earn side's citizen and partner API: written-out domain errors."""

from django.utils.translation import gettext_lazy as _

from carbonpoints.errors import Conflict, Invalid, NotFound


class ConsentRequired(Invalid):
    code = "consent_required"
    message = _("Linking needs your consent.")


class UnknownPartner(Invalid):
    code = "unknown_partner"
    message = _("No such partner.")


class RecordNotFound(NotFound):
    message = _("No record with this external id.")


class SubjectAlreadyLinked(Conflict):
    """Another carbon account holds an active link to this member id at this partner."""

    code = "subject_already_linked"
    message = _("This member id is linked to another account.")


class ScenesNotApproved(Invalid):
    """The citizen chose scenes the partner is not approved for (or none at all)."""

    code = "scenes_not_approved"
    message = _("Choose one or more of the partner's scenes.")


class LinkRevoked(Conflict):
    """A revoked link's consent cannot be changed: the citizen links again instead."""

    code = "link_revoked"
    message = _("This link was revoked: link the member id again.")


class PartnerNotDraft(Conflict):
    code = "partner_not_draft"
    message = _("Only a draft partner is approved.")


class AlreadyReversed(Conflict):
    """A record is reversed once: a second reversal (or retraction) is refused."""

    code = "already_reversed"
    message = _("This action was already reversed.")


class NotReversible(Conflict):
    """Only a credited record is reversed; a retraction also ends one not credited yet."""

    code = "not_reversible"
    message = _("This action cannot be reversed in its current state.")


class ClaimRetired(Conflict):
    """The pool no longer holds the record's grams: merchants retired them as offsets."""

    code = "claim_retired"
    message = _("The reduction of this action was already retired as an offset and cannot be reversed.")


class ReasonRequired(Invalid):
    code = "reason_required"
    message = _("Give a reason.")


class QuantityInvalid(Invalid):
    code = "quantity_invalid"
    message = _("The quantity must be above zero, with at most six decimal places.")
