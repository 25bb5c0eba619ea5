"""Four eyes on what operators approve: methodology versions, partners, merchants.

What one operator wrote (``written_by``), another approves; a citizen or a merchant approves
nothing. Each app's service calls ``approver_check`` and writes its own audit row.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models
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


class FourEyes(models.Model):
    """Who wrote a thing operators approve, who approved it and when (partners, methodology
    versions, merchants): ``approver_check`` compares the two people."""

    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        abstract = True
