"""Refusals of the methodology approval workflow: written-out domain errors."""

from django.utils.translation import gettext_lazy as _

from carbonpoints.approvals import FourEyesRequired as SameAuthor
from carbonpoints.approvals import NotOperator
from carbonpoints.error_codes import CommonErrorCode
from carbonpoints.errors import Conflict, Invalid
from carbonpoints.methodologies.error_codes import MethodologyErrorCode

__all__ = [
    "AlreadyInForce",
    "NoticeTooShort",
    "NotOperator",
    "ReasonRequired",
    "SameAuthor",
    "VersionsOverlap",
    "WrongStatus",
]


class WrongStatus(Conflict):
    code = MethodologyErrorCode.METHODOLOGY_STATUS_CONFLICT
    message = _("This version is not in a state that allows it.")


class NoticeTooShort(Invalid):
    """A version must be shown publicly as coming for the notice period before it takes force."""

    code = MethodologyErrorCode.NOTICE_TOO_SHORT
    message = _(
        "A new version may only take force after the public notice period: set a later 'valid from'."
    )


class VersionsOverlap(Conflict):
    code = MethodologyErrorCode.METHODOLOGY_VERSIONS_OVERLAP
    message = _("Versions of one methodology may not overlap.")


class AlreadyInForce(Conflict):
    """An approved version whose start has come (or is within the partners' clock skew) may already
    have quantified actions: it can no longer be withdrawn, only retired."""

    code = MethodologyErrorCode.METHODOLOGY_IN_FORCE
    message = _(
        "This version has taken force (or is about to): retire it instead of withdrawing it."
    )


class ReasonRequired(Invalid):
    code = CommonErrorCode.REASON_REQUIRED
    message = _("Give a reason.")
