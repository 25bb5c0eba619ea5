"""Codes of refusals of a citizen's PIPL rights (export, deletion)."""

from enum import StrEnum


class PrivacyErrorCode(StrEnum):
    EXPORT_NOT_READY = "export_not_ready"
    PASSWORD_INCORRECT = "password_incorrect"
    ACCOUNT_DELETED = "account_deleted"
