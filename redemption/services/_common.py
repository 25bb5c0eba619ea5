"""What the rooms of the spend side share: row locks, the local day, and moving a citizen's
points to a merchant's account."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from accounts.ledger_accounts import POINTS
from accounts.services import accrual_post_with_accounts
from carbonpoints.ledger.exceptions import InsufficientBalance
from carbonpoints.ledger.models import LedgerTransaction
from carbonpoints.ledger.services import (
    AccountRef,
    Leg,
    transaction_post,
)

from .. import exceptions as refusals
from ..ledger_accounts import receiving_account_key


def _local_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def _lock(rows: QuerySet[Any]) -> None:
    """``SELECT … FOR UPDATE`` these rows until the transaction ends."""
    list(rows.select_for_update().values_list("pk", flat=True))


def _spend(
    *,
    citizen_id: int,
    to: tuple[str, str],
    owner_id: int,
    points: int,
    kind: str,
    key: str,
    reference: str,
) -> LedgerTransaction:
    """Move ``points`` from the citizen's POINTS to the merchant's ``to`` account (its shard for this citizen)."""
    wallet, receiving = _spend_accounts(
        citizen_id=citizen_id, to=receiving_account_key(to, citizen_id), owner_id=owner_id
    )
    try:
        return transaction_post(
            kind=kind,
            legs=[Leg(wallet, -points), Leg(receiving, points)],
            idempotency_key=key,
            reference=reference,
        )
    except InsufficientBalance as refused:
        raise refusals.InsufficientPoints(needed=points, available=refused.available) from refused


def _spend_accounts(
    *, citizen_id: int, to: tuple[str, str], owner_id: int
) -> tuple[AccountRef, AccountRef]:
    """The citizen's POINTS and the receiving account: one query, no model instances. What the
    citizen was credited and not posted yet is theirs to spend: the same query takes their accrual
    row, posted before the spend (``accounts.services.accrual_post_with_accounts``)."""
    wallet, receiving = (POINTS[0], citizen_id, POINTS[1]), (to[0], owner_id, to[1])
    accounts = accrual_post_with_accounts(owner=citizen_id, keys=[wallet, receiving])
    return accounts[wallet], accounts[receiving]
