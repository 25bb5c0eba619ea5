"""Error codes shared by every domain, and the approvals' (Saleor's ``error_codes.py``).

A code is public contract: clients branch on it, so a value never changes. Each code is defined
once, in the enum of its domain (``<app>/error_codes.py``); ``docs/api-errors.md`` is generated
from them (``python -m carbonpoints.api.error_docs``) and a test keeps the two in step.
"""

from enum import StrEnum


class CommonErrorCode(StrEnum):
    """The kinds of refusal every domain shares, and what any request may be refused for."""

    REFUSED = "refused"
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    INVALID = "invalid"
    MALFORMED_REQUEST = "malformed_request"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    REASON_REQUIRED = "reason_required"


class ApprovalErrorCode(StrEnum):
    """Four eyes on what operators approve (``carbonpoints.approvals``)."""

    OPERATOR_REQUIRED = "operator_required"
    FOUR_EYES_REQUIRED = "four_eyes_required"
