"""Four eyes on what operators approve: methodology versions, partners, merchants.

What one operator wrote (``written_by``), another approves; a citizen or a merchant approves
nothing. Each app's service calls ``approver_check`` and writes its own audit row.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.translation import gettext_lazy as _

from carbonpoints.error_codes import ApprovalErrorCode
from carbonpoints.errors import Forbidden


class NotOperator(Forbidden):
    code = ApprovalErrorCode.OPERATOR_REQUIRED
    message = _("Only operators (staff) approve or retire this.")


class FourEyesRequired(Forbidden):
    """Whoever wrote it may not approve it."""

    code = ApprovalErrorCode.FOUR_EYES_REQUIRED
    message = _("An operator other than the one who wrote this must approve it.")


def operator_check(user: AbstractBaseUser) -> None:
    if not getattr(user, "is_staff", False):
        raise NotOperator()


def approver_check(*, written_by_id: int | None, approver: AbstractBaseUser) -> None:
    """Refuse a non-operator, and the author (an unknown author — seeded, or created by the
    command line — leaves any operator free to approve)."""
    operator_check(approver)
    if written_by_id is not None and written_by_id == approver.pk:
        raise FourEyesRequired()
