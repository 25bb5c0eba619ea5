"""Refusals of the earn side's citizen and partner API: written-out domain errors."""

from django.utils.translation import gettext_lazy as _

from carbonpoints.earn.error_codes import EarnErrorCode
from carbonpoints.error_codes import CommonErrorCode
from carbonpoints.errors import Conflict, Invalid, NotFound, TooLarge, Unauthenticated


class ConsentRequired(Invalid):
    code = EarnErrorCode.CONSENT_REQUIRED
    message = _("Linking needs your consent.")


class UnknownPartner(Invalid):
    code = EarnErrorCode.UNKNOWN_PARTNER
    message = _("No such partner.")


class RecordNotFound(NotFound):
    message = _("No record with this external id.")


class SubjectAlreadyLinked(Conflict):
    """Another carbon account holds an active link to this member id at this partner."""

    code = EarnErrorCode.SUBJECT_ALREADY_LINKED
    message = _("This member id is linked to another account.")


class ScenesNotApproved(Invalid):
    """The citizen chose scenes the partner is not approved for (or none at all)."""

    code = EarnErrorCode.SCENES_NOT_APPROVED
    message = _("Choose one or more of the partner's scenes.")


class LinkRevoked(Conflict):
    """A revoked link's consent cannot be changed: the citizen links again instead."""

    code = EarnErrorCode.LINK_REVOKED
    message = _("This link was revoked: link the member id again.")


class UnknownActions(Invalid):
    """A partner named for actions no methodology defines (the message lists them)."""

    code = EarnErrorCode.UNKNOWN_ACTIONS
    message = _("No methodology defines these actions.")


class PartnerNotDraft(Conflict):
    code = EarnErrorCode.PARTNER_NOT_DRAFT
    message = _("Only a draft partner is approved.")


class AlreadyReversed(Conflict):
    """A record is reversed once: a second reversal (or retraction) is refused."""

    code = EarnErrorCode.ALREADY_REVERSED
    message = _("This action was already reversed.")


class NotReversible(Conflict):
    """Only a credited record is reversed; a retraction also ends one not credited yet."""

    code = EarnErrorCode.NOT_REVERSIBLE
    message = _("This action cannot be reversed in its current state.")


class ClaimRetired(Conflict):
    """The pool no longer holds the record's grams: merchants retired them as offsets."""

    code = EarnErrorCode.CLAIM_RETIRED
    message = _(
        "The reduction of this action was already retired as an offset and cannot be reversed."
    )


class ReasonRequired(Invalid):
    code = CommonErrorCode.REASON_REQUIRED
    message = _("Give a reason.")


class QuantityInvalid(Invalid):
    code = EarnErrorCode.QUANTITY_INVALID
    message = _("The quantity must be above zero, with at most six decimal places.")


# --- the partner feed -------------------------------------------------------------------------


class MissingSignature(Unauthenticated):
    code = EarnErrorCode.MISSING_SIGNATURE
    message = _("Sign the request with X-CP-Key, X-CP-Timestamp and X-CP-Signature.")


class StaleTimestamp(Unauthenticated):
    code = EarnErrorCode.STALE_TIMESTAMP
    message = _("The timestamp is too far from the server's clock.")


class UnknownKey(Unauthenticated):
    code = EarnErrorCode.UNKNOWN_KEY
    message = _("No such key, or it has expired.")


class PartnerDisabled(Unauthenticated):
    code = EarnErrorCode.PARTNER_DISABLED
    message = _("This partner is disabled.")


class BadSignature(Unauthenticated):
    code = EarnErrorCode.BAD_SIGNATURE
    message = _("The signature does not match the request.")


class BodyTooLarge(TooLarge):
    """Refused before it is read (``details["max_bytes"]``)."""


class MalformedBody(Invalid):
    """The body as a whole cannot be read (``details["reason"]`` says why)."""

    code = CommonErrorCode.MALFORMED_REQUEST
    message = _('The body must be {"events": [...]} with 1 to 5000 events.')


class UploadRefused(Invalid):
    """A bulk file that cannot be taken in, with the code of its reason (one of ``codes``)."""

    codes = {
        EarnErrorCode.UNSUPPORTED_FORMAT: _("The upload is neither CSV nor JSON Lines."),
        EarnErrorCode.EMPTY_UPLOAD: _("The file is empty."),
        EarnErrorCode.BAD_GZIP: _("The file is not valid gzip."),
        CommonErrorCode.PAYLOAD_TOO_LARGE: _("The file is too large once uncompressed."),
        EarnErrorCode.BAD_ENCODING: _("The file must be UTF-8."),
        EarnErrorCode.BAD_HEADER: _("The CSV header does not name every field."),
    }
    """The codes it is raised with, and what each means (for docs/api-errors.md)."""

    def __init__(self, code: EarnErrorCode | CommonErrorCode, message: str) -> None:
        self.code = code
        super().__init__(message)


class BatchNotFound(NotFound):
    message = _("Not found.")


class UploadNotFound(NotFound):
    message = _("Not found.")


# --- the citizen ------------------------------------------------------------------------------


class LinkNotFound(NotFound):
    message = _("Not found.")


class ActionNotFound(NotFound):
    message = _("Not found.")
