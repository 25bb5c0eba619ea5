"""Refusals of the methodology approval workflow: written-out domain errors."""

from django.utils.translation import gettext_lazy as _

from carbonpoints.approvals import FourEyesRequired as SameAuthor
from carbonpoints.approvals import NotOperator
from carbonpoints.errors import Conflict, Invalid

__all__ = ["AlreadyInForce", "NoticeTooShort", "NotOperator", "ReasonRequired", "SameAuthor", "VersionsOverlap",
           "WrongStatus"]


class WrongStatus(Conflict):
    code = "methodology_status_conflict"
    message = _("This version is not in a state that allows it.")


class NoticeTooShort(Invalid):
    """A version must be shown publicly as coming for the notice period before it takes force."""

    code = "notice_too_short"
    message = _("A new version may only take force after the public notice period: set a later 'valid from'.")


class VersionsOverlap(Conflict):
    code = "methodology_versions_overlap"
    message = _("Versions of one methodology may not overlap.")


class AlreadyInForce(Conflict):
    """An approved version whose start has come (or is within the partners' clock skew) may already
    have quantified actions: it can no longer be withdrawn, only retired."""

    code = "methodology_in_force"
    message = _("This version has taken force (or is about to): retire it instead of withdrawing it.")


class ReasonRequired(Invalid):
    code = "reason_required"
    message = _("Give a reason.")
