"""bench/settle — does a merchant's daily statement cost the same on day 1 and after weeks of settled days?

A statement settles every payment taken up to the end of its day that no earlier statement settled,
so its reads are bounded by the last statement (a day's margin) rather than the merchant's whole
history. This benchmark gives one merchant PAYMENTS consumed vouchers a day for DAYS days (each
a real spend transaction: citizen points → the merchant's receiving shard), then settles the days
one by one and times each statement: reading the payments, one ledger transaction, the lines.
Target: the last day's statement ≤ 1.5× the first's.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta

from _common import analyze, print_table, setup_django, step, write_results

CITIZENS = 2_000
POINTS = 100  # per voucher


def reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE redemption_settlementline, redemption_settlement, redemption_voucher, redemption_redemption, "
            "redemption_scenario, redemption_merchantstaff, redemption_merchant, ledger_posting, "
            "ledger_ledgertransaction, ledger_ledgeraccount, accounts_carbonaccount, accounts_user "
            "RESTART IDENTITY CASCADE"
        )


def fill(days: int, payments: int, first_day) -> tuple[object, list]:
    """One merchant and its ``days × payments`` consumed vouchers, each on its own day."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.ledger_accounts import POINTS as CITIZEN_POINTS
    from accounts.models import CarbonAccount, User
    from carbonpoints.ledger.models import LedgerAccount, LedgerTransaction
    from carbonpoints.ledger.services import (
        Leg,
        TransactionSpec,
        ledger_accounts_get_or_create,
        transaction_post_many,
    )
    from redemption.ledger_accounts import MERCHANT_POINTS, receiving_account_key
    from redemption.models import Merchant, Redemption, Scenario, Voucher

    with transaction.atomic():
        users = User.objects.bulk_create(
            User(email=f"settle{n}@bench.cn", password="!") for n in range(CITIZENS)
        )
        accounts = CarbonAccount.objects.bulk_create(CarbonAccount(user=u) for u in users)
        merchant = Merchant.objects.create(name="Bench Mart", status=Merchant.Status.APPROVED)
        scenario = Scenario.objects.create(
            merchant=merchant, kind=Scenario.Kind.VOUCHER, title="Bench", points_cost=POINTS
        )
    source_key = ("bench_points_source", 0, "pt")
    keys = [source_key] + [(CITIZEN_POINTS.kind, a.pk, CITIZEN_POINTS.unit) for a in accounts]
    keys += [
        (receiving_account_key(MERCHANT_POINTS, a.pk)[0], merchant.pk, "pt") for a in accounts[:8]
    ]
    refs = ledger_accounts_get_or_create(keys=keys, allow_negative=False)
    LedgerAccount.objects.filter(pk=refs[source_key].pk).update(allow_negative=True)
    refs[source_key].allow_negative = True
    wallets = {a.pk: refs[(CITIZEN_POINTS.kind, a.pk, CITIZEN_POINTS.unit)] for a in accounts}
    transaction_post_many(
        specs=[
            TransactionSpec(
                kind="bench_credit",
                legs=[
                    Leg(refs[source_key], -POINTS * days * payments),
                    *(Leg(w, POINTS * days * payments // CITIZENS) for w in wallets.values()),
                ],
                idempotency_key="bench:credit",
            )
        ]
    )
    n = 0
    for day_index in range(days):
        day = first_day + timedelta(days=day_index)
        consumed = timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(
            hours=12
        )
        specs = []
        for i in range(payments):
            account = accounts[(n + i) % CITIZENS]
            shard = refs[(receiving_account_key(MERCHANT_POINTS, account.pk)[0], merchant.pk, "pt")]
            specs.append(
                TransactionSpec(
                    kind="redemption",
                    legs=[Leg(wallets[account.pk], -POINTS), Leg(shard, POINTS)],
                    idempotency_key=f"bench:spend:{n + i}",
                )
            )
        with transaction.atomic():
            txs = transaction_post_many(specs=specs)
            redemptions = Redemption.objects.bulk_create(
                Redemption(
                    scenario=scenario,
                    citizen_id=accounts[(n + i) % CITIZENS].pk,
                    points_spent=POINTS,
                    status=Redemption.Status.CONSUMED,
                    spend_tx=tx,
                    created_at=consumed,
                )
                for i, tx in enumerate(txs)
            )
            Voucher.objects.bulk_create(
                Voucher(
                    redemption=r,
                    code=f"B{n + i:015d}",
                    expires_at=consumed + timedelta(days=30),
                    consumed_at=consumed,
                )
                for i, r in enumerate(redemptions)
            )
        n += payments
    assert LedgerTransaction.objects.filter(kind="redemption").count() == days * payments
    return merchant, [first_day + timedelta(days=d) for d in range(days)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--payments", type=int, default=5_000, help="consumed vouchers per day")
    args = parser.parse_args()
    setup_django()
    from django.utils import timezone

    from carbonpoints.ledger.selectors import ledger_check
    from redemption.selectors import merchant_points_unsettled
    from redemption.services import settlement_make

    step(f"filling: one merchant, {args.days} days × {args.payments} consumed vouchers")
    reset()
    first_day = timezone.localdate() - timedelta(days=args.days + 1)
    merchant, days = fill(args.days, args.payments, first_day)
    analyze()
    step("settling each day in turn")
    rows, timings = [], []
    for n, day in enumerate(days):
        start = time.perf_counter()
        settlement = settlement_make(merchant=merchant, day=day)
        ms = (time.perf_counter() - start) * 1000
        assert settlement is not None and settlement.points_total == args.payments * POINTS
        timings.append(ms)
        rows.append([day.isoformat(), n * args.payments, args.payments, round(ms, 1)])
    assert merchant_points_unsettled(merchant_id=merchant.pk) == 0
    report = ledger_check()
    assert report.ok, report.problems
    ratio = round(timings[-1] / timings[0], 2)
    print_table(
        "one statement per day (PostgreSQL)",
        ["day", "payments settled before", "payments", "ms"],
        rows,
    )
    print(f"last / first: {ratio}× (target ≤ 1.5×); ledger_check ok")
    write_results(
        "settle",
        {
            "days": args.days,
            "payments_per_day": args.payments,
            "statements_ms": [round(t, 1) for t in timings],
            "last_over_first": ratio,
        },
    )


if __name__ == "__main__":
    main()
