"""Codes of refusals of the methodology approval workflow."""

from enum import StrEnum


class MethodologyErrorCode(StrEnum):
    METHODOLOGY_STATUS_CONFLICT = "methodology_status_conflict"
    NOTICE_TOO_SHORT = "notice_too_short"
    METHODOLOGY_VERSIONS_OVERLAP = "methodology_versions_overlap"
    METHODOLOGY_IN_FORCE = "methodology_in_force"
