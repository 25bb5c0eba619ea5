"""Writes of settlements: each merchant's daily statement, posted to the ledger."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.db import transaction
from django.db.models import F, Q

from carbonpoints.budgets import selectors as budget_selectors
from carbonpoints.ledger.models import LedgerAccount, LedgerTransaction, Posting
from carbonpoints.ledger.services import Leg, ledger_accounts_get_or_create, transaction_post

from ..ledger_accounts import MERCHANT_SETTLED
from ..models import Checkout, Merchant, Settlement, SettlementLine, Voucher
from ._common import _local_day_bounds, _lock


def settlement_amount_fen(*, points: int, rate: Decimal) -> int:
    """Money owed for ``points`` at ``rate`` yuan per point, in whole fen (half to even)."""
    return int((points * rate * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def settlement_make(*, merchant: Merchant, day: date) -> Settlement | None:
    """The merchant's statement for one local day, posted to the ledger; final once made.

    It settles every payment the merchant took up to the end of the day (consumed vouchers,
    checkouts not reversed) that no earlier statement settled: so a day settled while still
    running, or a payment whose commit came late, is caught by the next statement, and a
    payment is settled once (its spend transaction is unique among the lines). Their points
    move in one transaction from the accounts they arrived on to the merchant's settled
    account, so what the merchant still holds is what is not yet settled; each payment becomes
    a line with the money owed at the published rate. The merchant's row is locked, so two runs
    make one statement, and the checkouts are locked, so a reversal either comes first or is
    refused after.
    """
    with transaction.atomic():
        _lock(Merchant.objects.filter(pk=merchant.pk))
        existing = Settlement.objects.filter(merchant=merchant, day=day).first()
        if existing:
            return existing
        _, end = _local_day_bounds(day)
        taken = Q(occurred__lt=end)
        latest = (
            Settlement.objects.filter(merchant=merchant).order_by("-day", "-created_at").first()
        )
        if latest is not None:
            # what the latest statement could see was settled by it (up to its day's end, or the
            # moment it was made if sooner); a day's margin catches payments committed late
            seen_until = min(latest.created_at, _local_day_bounds(latest.day)[1])
            taken &= Q(occurred__gte=seen_until - timedelta(days=1))
        settled = SettlementLine.objects.filter(settlement__merchant=merchant).values("spend_tx_id")
        rate, rate_source = budget_selectors.settlement_rate()
        lines = [
            SettlementLine(
                kind=SettlementLine.Kind.VOUCHER,
                spend_tx_id=tx_id,
                reference=f"voucher:{code}",
                occurred_at=at or end,
                points=points,
                rate_yuan_per_point=rate,  # consumed: never None here
                rate_source=rate_source,
                amount_fen=settlement_amount_fen(points=points, rate=rate),
            )
            for code, at, points, tx_id in Voucher.objects.filter(
                redemption__scenario__merchant=merchant
            )
            .alias(occurred=F("consumed_at"))
            .filter(taken)
            .exclude(redemption__spend_tx_id__in=settled)
            .values_list(
                "code", "consumed_at", "redemption__points_spent", "redemption__spend_tx_id"
            )
        ]
        checkouts = list(
            Checkout.objects.select_for_update()
            .filter(merchant=merchant, status=Checkout.Status.PAID)
            .alias(occurred=F("created_at"))
            .filter(taken)
            .exclude(spend_tx_id__in=settled)
            .values_list("pk", "created_at", "points_used", "discount_fen", "spend_tx_id")
        )
        lines += [
            SettlementLine(
                kind=SettlementLine.Kind.CHECKOUT,
                spend_tx_id=tx_id,
                reference=f"checkout:{pk}",
                occurred_at=at,
                points=points,
                rate_yuan_per_point=rate,
                rate_source=rate_source,
                amount_fen=settlement_amount_fen(points=points, rate=rate),
            )
            for pk, at, points, _discount, tx_id in checkouts
        ]
        if not lines:
            return None
        ledger_tx = _settlement_post(merchant=merchant, day=day, lines=lines)
        voucher_points = sum(
            line.points for line in lines if line.kind == SettlementLine.Kind.VOUCHER
        )
        checkout_points = sum(
            line.points for line in lines if line.kind == SettlementLine.Kind.CHECKOUT
        )
        settlement = Settlement.objects.create(
            merchant=merchant,
            day=day,
            ledger_tx=ledger_tx,
            vouchers_consumed=sum(1 for line in lines if line.kind == SettlementLine.Kind.VOUCHER),
            voucher_points=voucher_points,
            checkouts=len(checkouts),
            checkout_points=checkout_points,
            checkout_discount_fen=sum(discount for _, _, _, discount, _ in checkouts),
            points_total=voucher_points + checkout_points,
            amount_fen=sum(line.amount_fen for line in lines),
        )
        for line in lines:
            line.settlement = settlement
        SettlementLine.objects.bulk_create(lines)
    return settlement


def _settlement_post(
    *, merchant: Merchant, day: date, lines: list[SettlementLine]
) -> LedgerTransaction:
    """One transaction: each line's points leave the receiving account its payment arrived on
    (read from the payment's own posting) for the merchant's settled account."""
    arrived_on = dict(
        Posting.objects.filter(
            transaction_id__in=[line.spend_tx_id for line in lines], amount__gt=0
        ).values_list("transaction_id", "account_id")
    )
    taken: dict[int, int] = defaultdict(int)
    for line in lines:
        taken[arrived_on[line.spend_tx_id]] += line.points
    sources = LedgerAccount.objects.in_bulk(list(taken))
    settled_key = (MERCHANT_SETTLED[0], merchant.pk, MERCHANT_SETTLED[1])
    settled = ledger_accounts_get_or_create(keys=[settled_key])[settled_key]
    legs = [Leg(sources[pk], -points) for pk, points in sorted(taken.items())]
    legs.append(Leg(settled, sum(taken.values())))
    return transaction_post(
        kind="settlement",
        legs=legs,
        idempotency_key=f"settle:{merchant.pk}:{day.isoformat()}",
        reference=f"merchant:{merchant.pk}",
        memo=f"settlement of {day.isoformat()}",
        metadata={
            "day": day.isoformat(),
            "spend_tx_ids": sorted(line.spend_tx_id for line in lines),
        },
    )


def settlements_run(*, day: date) -> int:
    """Statements of every merchant for ``day``; how many exist for it afterwards."""
    for merchant in Merchant.objects.all():
        settlement_make(merchant=merchant, day=day)
    return Settlement.objects.filter(day=day).count()
