"""Writes of merchants: created, drafted and approved by two operators, suspended."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from carbonpoints.approvals import approver_check, operator_check
from carbonpoints.audit.services import audit_record
from carbonpoints.regions.authority import authority_check
from carbonpoints.regions.codes import default as default_region

from .. import exceptions as refusals
from ..models import Merchant, MerchantStaff
from .staff import staff_add


@transaction.atomic
def merchant_create(
    *,
    name: str,
    manager_email: str,
    status: str = Merchant.Status.APPROVED,
    region: str | None = None,
) -> tuple[Merchant, str]:
    """A merchant with its first manager; returns the manager's one-time password. ``region``: where
    it trades (a GB/T 2260 code; None: the default region)."""
    merchant = Merchant.objects.create(
        name=name, status=status, region_id=region or default_region()
    )
    _, password = staff_add(merchant=merchant, email=manager_email, role=MerchantStaff.Role.MANAGER)
    return merchant, password


def merchant_draft(
    *, name: str, manager_email: str, author: User, region: str | None = None
) -> tuple[Merchant, str]:
    """A merchant drafted by an operator (pending) in ``region`` (None: the default region), one
    of the author's: its staff sell nothing until another operator approves it. Returns the first
    manager's one-time password."""
    operator_check(author)
    authority_check(author, region)
    with transaction.atomic():
        merchant, password = merchant_create(
            name=name, manager_email=manager_email, status=Merchant.Status.PENDING, region=region
        )
        Merchant.objects.filter(pk=merchant.pk).update(written_by=author)
        merchant.written_by = author
        audit_record(actor=author, action="merchant.draft_create", obj=merchant)
    return merchant, password


def merchant_approve(*, merchant: Merchant, approver: User) -> Merchant:
    """Four eyes: another operator approves a pending merchant, which is then in force."""
    with transaction.atomic():
        merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
        if merchant.status != Merchant.Status.PENDING:
            raise refusals.MerchantNotPending(status=merchant.status)
        approver_check(written_by_id=merchant.written_by_id, approver=approver)
        authority_check(approver, merchant.region_id)  # four eyes within the merchant's region
        merchant.status, merchant.approved_by, merchant.approved_at = (
            Merchant.Status.APPROVED,
            approver,
            timezone.now(),
        )
        merchant.save(update_fields=["status", "approved_by", "approved_at"])
        audit_record(
            actor=approver,
            action="merchant.approve",
            obj=merchant,
            details={"written_by": merchant.written_by_id},
        )
    return merchant


def merchant_status_set(*, merchant: Merchant, status: str, actor: User) -> Merchant:
    """Suspend (retire) a merchant or reinstate it; audited."""
    operator_check(actor)
    authority_check(actor, merchant.region_id)
    with transaction.atomic():
        was = merchant.status
        merchant.status = status
        merchant.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action="merchant.status_set",
            obj=merchant,
            details={"from": was, "to": status},
        )
    return merchant
