"""Refusals of the methodology approval workflow: written-out domain errors."""

from django.utils.translation import gettext_lazy as _

from carbonpoints.errors import Conflict, Forbidden, Invalid


class SameAuthor(Forbidden):
    """Four eyes: whoever wrote a version may not approve it."""

    code = "four_eyes_required"
    message = _("An operator other than the one who wrote this version must approve it.")


class NotOperator(Forbidden):
    code = "operator_required"
    message = _("Only operators (staff) approve or retire methodology versions.")


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
