"""Codes of refusals of the earn side: the partner feed (signatures, uploads, corrections) and
the citizen's links. The per-event codes of a batch's results (``invalid_event``…) and the
records' reason codes are not refusals of a request: they are documented in docs/partners.md."""

from enum import StrEnum


class EarnErrorCode(StrEnum):
    # partner signatures (401)
    MISSING_SIGNATURE = "missing_signature"
    STALE_TIMESTAMP = "stale_timestamp"
    UNKNOWN_KEY = "unknown_key"
    PARTNER_DISABLED = "partner_disabled"
    BAD_SIGNATURE = "bad_signature"
    # bulk uploads (400)
    UNSUPPORTED_FORMAT = "unsupported_format"
    EMPTY_UPLOAD = "empty_upload"
    BAD_GZIP = "bad_gzip"
    BAD_ENCODING = "bad_encoding"
    BAD_HEADER = "bad_header"
    # links
    CONSENT_REQUIRED = "consent_required"
    UNKNOWN_PARTNER = "unknown_partner"
    SUBJECT_ALREADY_LINKED = "subject_already_linked"
    SCENES_NOT_APPROVED = "scenes_not_approved"
    LINK_REVOKED = "link_revoked"
    # operators and corrections
    UNKNOWN_ACTIONS = "unknown_actions"
    PARTNER_NOT_DRAFT = "partner_not_draft"
    ALREADY_REVERSED = "already_reversed"
    NOT_REVERSIBLE = "not_reversible"
    CLAIM_RETIRED = "claim_retired"
    QUANTITY_INVALID = "quantity_invalid"
