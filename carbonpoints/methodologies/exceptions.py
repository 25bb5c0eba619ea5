"""Refusals of the methodology approval workflow: written-out domain errors."""

from django.utils.translation import gettext_lazy as _

from carbonpoints.approvals import FourEyesRequired as SameAuthor
from carbonpoints.approvals import NotOperator
from carbonpoints.errors import Conflict, Invalid

__all__ = ["NoticeTooShort", "NotOperator", "SameAuthor", "VersionsOverlap", "WrongStatus"]


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
