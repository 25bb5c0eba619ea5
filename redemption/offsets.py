"""Merchant offsets (减排量消纳): pooled grams become serial-numbered units, retired once each.

The earn side fills the pool accounts (``accounts.ledger_accounts.pool_account_key``). Here the
grams a pool holds are numbered into blocks of serials, and a retirement moves grams from the
pool accounts to the merchant's retired account in the ledger while marking the blocks it took.
Both lock the pool accounts' rows (primary-key order, like the ledger) so they never interleave.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.db.models import F, Max, Sum

from accounts.ledger_accounts import (
    POOL_KIND_PREFIX,
    POOL_UNIT,
    pool_account_key,
    pool_account_parts,
)
from carbonpoints.audit.services import audit_record
from carbonpoints.ledger.exceptions import InsufficientBalance
from carbonpoints.ledger.models import LedgerAccount
from carbonpoints.ledger.services import Leg, transaction_post

from . import exceptions as refusals
from .ledger_accounts import OFFSET_RETIRED, merchant_account
from .models import MerchantStaff, OffsetCertificate, UnitBlock


def _pool_accounts(*, vintage: int | None = None, lock: bool = False):
    accounts = LedgerAccount.objects.filter(
        kind__startswith=POOL_KIND_PREFIX, unit=POOL_UNIT
    ).order_by("pk")
    if vintage is not None:
        accounts = accounts.filter(owner_id=vintage)
    return accounts.select_for_update() if lock else accounts


def _grams(blocks) -> int:
    return blocks.aggregate(g=Sum(F("serial_last") - F("serial_first") + 1))["g"] or 0


def pool_unitize(*, account: LedgerAccount) -> UnitBlock | None:
    """Number the grams of one pool account not yet in a block (the caller holds its lock)."""
    methodology, _ = pool_account_parts(account.kind, account.owner_id)
    blocks = UnitBlock.objects.filter(methodology_code=methodology, vintage=account.owner_id)
    new = account.balance - _grams(blocks.filter(certificate__isnull=True))
    if new <= 0:
        return None
    last = blocks.aggregate(m=Max("serial_last"))["m"] or 0
    return UnitBlock.objects.create(
        methodology_code=methodology,
        vintage=account.owner_id,
        serial_first=last + 1,
        serial_last=last + new,
    )


def pool_unitize_all() -> int:
    """Periodic: unitize every pool account; how many blocks were made."""
    made = 0
    with transaction.atomic():
        for account in _pool_accounts(lock=True):
            made += pool_unitize(account=account) is not None
    return made


def offset_retire(
    *, staff: MerchantStaff, grams: int, purpose: str, vintage: int | None = None
) -> OffsetCertificate:
    """Retire ``grams`` of pooled units, oldest vintage first (or only ``vintage``), with a certificate."""
    with transaction.atomic():
        accounts = list(_pool_accounts(vintage=vintage, lock=True))
        for account in accounts:
            pool_unitize(account=account)
        available = UnitBlock.objects.filter(certificate__isnull=True)
        if vintage is not None:
            available = available.filter(vintage=vintage)
        holds = _grams(available)
        if grams > holds:
            raise refusals.InsufficientPool(requested=grams, available=holds)

        certificate_id = uuid.uuid4()
        taken: list[UnitBlock] = []
        per_pool: dict[tuple[str, int], int] = {}
        needed = grams
        for block in available.select_for_update().order_by(
            "vintage", "methodology_code", "serial_first"
        ):
            if needed == 0:
                break
            take = min(needed, block.grams)
            if take < block.grams:
                # split: the rest stays available, the head is retired
                first = block.serial_first
                block.serial_first = first + take
                block.save(update_fields=["serial_first"])
                block = UnitBlock(
                    methodology_code=block.methodology_code,
                    vintage=block.vintage,
                    serial_first=first,
                    serial_last=first + take - 1,
                )
            taken.append(block)
            pool = (block.methodology_code, block.vintage)
            per_pool[pool] = per_pool.get(pool, 0) + take
            needed -= take

        legs = []
        for (methodology, vintage_), amount in per_pool.items():
            key = pool_account_key(
                methodology_code=methodology,
                vintage_year=vintage_ // 100,
                vintage_month=vintage_ % 100,
            )
            legs.append(Leg(LedgerAccount.objects.get(**key), -amount))
        legs.append(Leg(merchant_account(OFFSET_RETIRED, staff.merchant_id), grams))
        try:
            ledger_tx = transaction_post(
                kind="offset_retirement",
                legs=legs,
                reference=f"certificate:{certificate_id}",
                memo=purpose[:255],
                metadata={"merchant_id": staff.merchant_id},
            )
        except InsufficientBalance as refused:
            raise refusals.InsufficientPool(
                requested=grams, available=refused.available
            ) from refused
        certificate = OffsetCertificate.objects.create(
            id=certificate_id,
            merchant_id=staff.merchant_id,
            grams=grams,
            purpose=purpose,
            retired_by=staff.user,
            ledger_tx=ledger_tx,
        )
        for block in taken:
            block.certificate = certificate
            block.save()
        audit_record(
            actor=staff.user,
            action="merchant.offset_retire",
            obj=certificate,
            details={"merchant_id": staff.merchant_id, "grams": grams, "vintage": vintage},
        )
    return certificate
