"""Writes of vouchers: accepted at the till once, or refunded past their expiry."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .. import exceptions as refusals
from ..models import MerchantStaff, Redemption, Voucher
from ..selectors import voucher_code_normalize
from .redemptions import _refund


def voucher_expire(*, voucher_id: int) -> bool:
    """Refund an unconsumed voucher past its expiry; safe to run twice (True when it refunded)."""
    with transaction.atomic():
        voucher = (
            Voucher.objects.select_for_update(of=("self",))
            .select_related("redemption__scenario")
            .filter(pk=voucher_id)
            .first()
        )
        if (
            voucher is None
            or voucher.consumed_at
            or voucher.expired_at
            or voucher.redemption.status != Redemption.Status.ISSUED
            or voucher.expires_at > timezone.now()
        ):
            return False
        voucher.expired_at = timezone.now()
        voucher.save(update_fields=["expired_at"])
        redemption = Redemption.objects.select_for_update().get(pk=voucher.redemption_id)
        _refund(redemption=redemption, memo="voucher expired", give_back_stock=True)
    return True


def voucher_consume(*, staff: MerchantStaff, code: str) -> Voucher:
    """Accept a voucher at the till, once; another merchant's voucher is unknown here."""
    with transaction.atomic():
        voucher = (
            Voucher.objects.select_for_update(of=("self",))
            .select_related("redemption__scenario")
            .filter(
                code=voucher_code_normalize(code),
                redemption__scenario__merchant_id=staff.merchant_id,
            )
            .first()
        )
        if voucher is None:
            raise refusals.VoucherNotFound()
        if voucher.consumed_at:
            raise refusals.VoucherAlreadyConsumed(consumed_at=voucher.consumed_at.isoformat())
        # read after the lock: a refund that committed meanwhile must be seen
        if Redemption.objects.filter(
            pk=voucher.redemption_id, status=Redemption.Status.REFUNDED
        ).exists():
            raise refusals.VoucherRefunded()
        if voucher.expires_at <= timezone.now():
            raise refusals.VoucherExpired(expires_at=voucher.expires_at.isoformat())
        voucher.consumed_at = timezone.now()
        voucher.consumed_by = staff.user
        voucher.save(update_fields=["consumed_at", "consumed_by"])
        Redemption.objects.filter(pk=voucher.redemption_id).update(
            status=Redemption.Status.CONSUMED
        )
        voucher.redemption.status = Redemption.Status.CONSUMED
    return voucher
