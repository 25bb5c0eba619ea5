"""Codes of refusals of the evaluation side (levels, badges, the leaderboard)."""

from enum import StrEnum


class EvaluationErrorCode(StrEnum):
    NICKNAME_TAKEN = "nickname_taken"
