"""Codes of refusals of claims for missing records."""

from enum import StrEnum


class ClaimErrorCode(StrEnum):
    NOT_LINKED = "not_linked"
    UNKNOWN_ACTION = "unknown_action"
    INVALID_OCCURRED_AT = "invalid_occurred_at"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_EVIDENCE = "invalid_evidence"
    SELF_REPORT_NOT_ALLOWED = "self_report_not_allowed"
    CLAIM_ALREADY_DECIDED = "claim_already_decided"
    QUANTITY_IMPLAUSIBLE = "quantity_implausible"
    CLAIM_REPEATED = "claim_repeated"
    REGION_REQUIRED = "region_required"
    """No ``region``, at a partner approved for several regions (the partner feed's code)."""
    REGION_NOT_APPROVED = "region_not_approved"
    """A ``region`` the partner is not approved for (the partner feed's code)."""
