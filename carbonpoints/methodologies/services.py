"""Writes of the methodology catalogue: the approval workflow of a version.

draft (written by one operator) → approved by another (four eyes), which schedules it: it is
shown publicly as coming for at least ``METHODOLOGY_NOTICE_DAYS`` and ends the version it
replaces where it begins → in force from its ``valid_from`` (``methodologies_take_force``, run
by beat) → retired. An approved version not in force yet may be withdrawn back to draft. Every
transition leaves an audit row.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from carbonpoints.approvals import approver_check, operator_check
from carbonpoints.audit.selectors import audit_details_latest
from carbonpoints.audit.services import audit_record
from carbonpoints.regions.authority import authority_check

from . import exceptions
from .models import Methodology


def notice_period() -> timedelta:
    return timedelta(days=settings.METHODOLOGY_NOTICE_DAYS)


def methodology_draft_save(*, methodology: Methodology, author: AbstractBaseUser) -> Methodology:
    """Save a new or edited draft version, remembering its author (who may not approve it)."""
    operator_check(author)
    if methodology.pk is not None and methodology.status != Methodology.Status.DRAFT:
        raise exceptions.WrongStatus(status=methodology.status)
    created = methodology.pk is None
    methodology.status = Methodology.Status.DRAFT
    if created or methodology.written_by_id is None:
        methodology.written_by = author  # type: ignore[assignment]
    with transaction.atomic():
        methodology.full_clean()
        methodology.save()
        audit_record(
            actor=author,
            action="methodology.draft_create" if created else "methodology.draft_edit",
            obj=methodology,
            details={"code": methodology.code, "version": methodology.version},
        )
    return methodology


def methodology_approve(
    *, methodology: Methodology, approver: AbstractBaseUser, now: datetime | None = None
) -> Methodology:
    """Approve a draft: four eyes, at least the notice period ahead; it ends its predecessor."""
    now = now or timezone.now()
    with transaction.atomic():
        version = Methodology.objects.select_for_update().get(pk=methodology.pk)
        if version.status != Methodology.Status.DRAFT:
            raise exceptions.WrongStatus(status=version.status)
        approver_check(written_by_id=version.written_by_id, approver=approver)
        authority_check(approver, version.region_id)  # four eyes within the version's region
        earliest = now + notice_period()
        if version.valid_from < earliest:
            raise exceptions.NoticeTooShort(
                earliest_valid_from=earliest, notice_days=settings.METHODOLOGY_NOTICE_DAYS
            )
        predecessors = (
            Methodology.objects.select_for_update()
            .filter(
                code=version.code,
                region_id=version.region_id,
                status__in=Methodology.CREDITING,
                valid_from__lt=version.valid_from,
            )
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=version.valid_from))
        )
        ended = []
        for predecessor in predecessors:
            ended.append(
                {
                    "id": predecessor.pk,
                    "version": predecessor.version,
                    "valid_until_was": predecessor.valid_until,
                }
            )
            predecessor.valid_until = version.valid_from
            predecessor.save(update_fields=["valid_until"])
        version.status = Methodology.Status.APPROVED
        version.approved_by = approver  # type: ignore[assignment]
        version.approved_at = now
        try:
            version.full_clean()
        except Exception as error:  # a later version already scheduled: nothing changes
            raise exceptions.VersionsOverlap() from error
        version.save(update_fields=["status", "approved_by", "approved_at"])
        audit_record(
            actor=approver,
            action="methodology.approve",
            obj=version,
            details={
                "code": version.code,
                "version": version.version,
                "valid_from": version.valid_from,
                "written_by": version.written_by_id,
                "ended": ended,
            },
        )
    return version


def methodologies_take_force(*, now: datetime | None = None) -> int:
    """Approved versions whose start has come are in force (crediting already uses them from
    ``valid_from``; this records the transition). Returns how many took force."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Methodology.objects.select_for_update().filter(
                status=Methodology.Status.APPROVED, valid_from__lte=now
            )
        )
        for version in due:
            version.status = Methodology.Status.IN_FORCE
            version.save(update_fields=["status"])
            audit_record(
                actor=None,
                action="methodology.take_force",
                obj=version,
                details={"code": version.code, "version": version.version},
            )
    return len(due)


def methodology_retire(
    *,
    methodology: Methodology,
    operator: AbstractBaseUser,
    reason: str = "",
    now: datetime | None = None,
) -> Methodology:
    """Retire a version in force: it no longer quantifies actions after ``now`` (history holds)."""
    operator_check(operator)
    now = now or timezone.now()
    with transaction.atomic():
        version = Methodology.objects.select_for_update().get(pk=methodology.pk)
        authority_check(operator, version.region_id)  # a city's operator: their city's versions
        in_force = version.status == Methodology.Status.IN_FORCE or (
            version.status == Methodology.Status.APPROVED and version.valid_from <= now
        )
        if not in_force:
            raise exceptions.WrongStatus(status=version.status)
        version.status = Methodology.Status.RETIRED
        version.retired_at = now
        if version.valid_until is None or version.valid_until > now:
            version.valid_until = now
        version.save(update_fields=["status", "retired_at", "valid_until"])
        audit_record(
            actor=operator,
            action="methodology.retire",
            obj=version,
            details={"code": version.code, "version": version.version, "reason": reason},
        )
    return version


def _ended_on_approval(version: Methodology) -> dict[int, datetime | None]:
    """The ends of validity that approving ``version`` changed, by predecessor: what the latest
    ``methodology.approve`` row of the version recorded (``ended``)."""
    ended = (audit_details_latest(action="methodology.approve", obj=version) or {}).get(
        "ended"
    ) or []
    return {
        int(row["id"]): parse_datetime(row["valid_until_was"])
        if row.get("valid_until_was")
        else None
        for row in ended
        if row.get("id") is not None
    }


def _earliest(*moments: datetime | None) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return min(known) if known else None


def methodology_withdraw(
    *,
    methodology: Methodology,
    operator: AbstractBaseUser,
    reason: str,
    now: datetime | None = None,
) -> Methodology:
    """Withdraw an approved version that is not in force yet: back to a draft (its author may edit
    it and have it approved again), no longer announced on the public register.

    Approval ended the version it replaced where this one begins; that version gets back the end it
    had (recorded by the approval's audit row), but never past the start of another version of the
    same code, so versions still never overlap. Refused once the version's start is within the
    partners' clock skew (``EARN_CLOCK_SKEW_S``): records may already be quantified by it."""
    operator_check(operator)
    reason = (reason or "").strip()
    if not reason:
        raise exceptions.ReasonRequired()
    now = now or timezone.now()
    with transaction.atomic():
        version = Methodology.objects.select_for_update().get(pk=methodology.pk)
        authority_check(operator, version.region_id)  # a city's operator: their city's versions
        if version.status != Methodology.Status.APPROVED:
            raise exceptions.WrongStatus(status=version.status)
        if version.valid_from <= now + timedelta(seconds=settings.EARN_CLOCK_SKEW_S):
            raise exceptions.AlreadyInForce(valid_from=version.valid_from)
        ended = _ended_on_approval(version)
        others = list(
            Methodology.objects.select_for_update()
            .filter(
                code=version.code,
                region_id=version.region_id,
                status__in=Methodology.CREDITING,
            )
            .exclude(pk=version.pk)
            .order_by("valid_from")
        )
        restored = []
        for predecessor in others:
            if (
                predecessor.status == Methodology.Status.RETIRED
                or predecessor.valid_until != version.valid_from
            ):
                continue
            next_start = next(
                (
                    other.valid_from
                    for other in others
                    if other.pk != predecessor.pk and other.valid_from > predecessor.valid_from
                ),
                None,
            )
            was = ended.get(predecessor.pk) if predecessor.pk in ended else version.valid_until
            predecessor.valid_until = _earliest(was, next_start)
            predecessor.save(update_fields=["valid_until"])
            restored.append(
                {
                    "id": predecessor.pk,
                    "version": predecessor.version,
                    "valid_until_was": version.valid_from,
                    "valid_until": predecessor.valid_until,
                }
            )
        approved_by, approved_at = version.approved_by_id, version.approved_at
        version.status = Methodology.Status.DRAFT
        version.approved_by = None
        version.approved_at = None
        version.save(update_fields=["status", "approved_by", "approved_at"])
        audit_record(
            actor=operator,
            action="methodology.withdraw",
            obj=version,
            details={
                "code": version.code,
                "version": version.version,
                "valid_from": version.valid_from,
                "reason": reason,
                "approved_by": approved_by,
                "approved_at": approved_at,
                "restored": restored,
            },
        )
    return version
