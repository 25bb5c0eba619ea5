"""Codes of refusals about people and their accounts."""

from enum import StrEnum


class AccountErrorCode(StrEnum):
    NOT_A_CITIZEN = "not_a_citizen"
