"""Domain errors: refusals the domain explains, with no HTTP in them.

Each is a class with a machine-readable ``code`` (a member of its domain's ``error_codes`` enum)
and a ``message`` for people; ``details`` carry the figures behind it. The kind of refusal is its
base class (not found, forbidden, a conflict with the state of things, unprocessable, invalid,
unauthenticated, too large); the API's one exception handler (``carbonpoints.api.errors``) maps
each kind to its status and writes the error shape. Pages catch them and show the message.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _

from carbonpoints.error_codes import CommonErrorCode


class DomainError(Exception):
    code: StrEnum = CommonErrorCode.REFUSED
    message: Any = _("The request was refused.")

    def __init__(self, message: Any = None, **details: Any) -> None:
        self.message = message or type(self).message
        self.details = details
        super().__init__(str(self.message))

    def __str__(self) -> str:
        return str(self.message)


class Conflict(DomainError):
    """The state of things does not allow it (a second consume, not enough points…)."""


class NotFound(DomainError):
    code: StrEnum = CommonErrorCode.NOT_FOUND
    message = _("No such resource.")


class Forbidden(DomainError):
    code: StrEnum = CommonErrorCode.PERMISSION_DENIED
    message = _("Not allowed.")


class Unprocessable(DomainError):
    """Understood and valid, but nothing can be done with it."""


class Invalid(DomainError):
    code: StrEnum = CommonErrorCode.INVALID


class Unauthenticated(DomainError):
    """Who is calling could not be established (a partner's signature)."""


class TooLarge(DomainError):
    """The body is larger than allowed."""

    code: StrEnum = CommonErrorCode.PAYLOAD_TOO_LARGE
    message = _("The body is larger than allowed.")
