"""bench/scale — do balance and history reads cost the same with 10 thousand and 10 million postings?

Balances are running balances on the account row and history pages walk the index
(account, id) from the newest posting, so neither should grow with the ledger. This benchmark
fills the ledger twice (10k postings, then 10M) with balanced credit transactions spread over
10,000 citizens, and times the same reads each time, for citizens whose newest page is full in
both ledgers: the balance read behind
``/api/v1/me/account``, the whole ``/api/v1/me/account`` request (in-process, no network), and
the newest page (20) of a citizen's postings, alone and as ``GET /api/v1/me/ledger``. Target: large/small ≤ 1.5×.
"""

from __future__ import annotations

import argparse
import random

from _common import latencies_ms, print_table, setup_django, step, summary, write_results

CITIZENS = 10_000
AMOUNT = 10  # points per credit
RUN = 20  # consecutive credits to one citizen: one history page


def reset_and_open_accounts() -> list[tuple[int, int]]:
    """Empty the benchmark ledger and open CITIZENS carbon accounts; returns (user id, points account id)."""
    from django.db import connection, transaction

    from accounts.ledger_accounts import CITIZEN_ACCOUNTS, POINTS
    from accounts.models import CarbonAccount, User
    from carbonpoints.ledger.models import LedgerAccount

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE ledger_posting, ledger_ledgertransaction, ledger_ledgeraccount, "
            "accounts_carbonaccount, accounts_user RESTART IDENTITY CASCADE"
        )
    with transaction.atomic():
        users = User.objects.bulk_create(
            User(email=f"bench{n}@bench.cn", password="!") for n in range(CITIZENS)
        )
        accounts = CarbonAccount.objects.bulk_create(CarbonAccount(user=u) for u in users)
        LedgerAccount.objects.bulk_create(
            LedgerAccount(kind=kind, unit=unit, owner_id=a.pk)
            for a in accounts
            for kind, unit in CITIZEN_ACCOUNTS
        )
        LedgerAccount.objects.create(kind="bench_issuance", unit="pt", allow_negative=True)
    points = dict(LedgerAccount.objects.filter(kind=POINTS[0]).values_list("owner_id", "id"))
    return [(a.user_id, points[a.pk]) for a in accounts]


def grow_ledger(target_postings: int, citizen_accounts: list[int]) -> None:
    """Append balanced credits (issuance → citizen, AMOUNT points) until the ledger holds
    ``target_postings`` postings, in set-based chunks, keeping running balances exact."""
    from django.db import connection, transaction

    from carbonpoints.ledger.models import LedgerAccount, Posting

    source = LedgerAccount.objects.get(kind="bench_issuance")
    done_tx = Posting.objects.count() // 2
    want_tx = target_postings // 2
    first_citizen = min(citizen_accounts)  # opened in one bulk insert: consecutive ids, step 3
    assert sorted(citizen_accounts) == list(range(first_citizen, first_citizen + 3 * CITIZENS, 3))
    chunk = 500_000
    while done_tx < want_tx:
        upto = min(want_tx, done_tx + chunk)
        with transaction.atomic(), connection.cursor() as cursor:
            # Bulk fill only: skip per-row foreign-key and ledger triggers (the rows are built
            # balanced and against existing accounts; the balances are re-derived below).
            cursor.execute("SET LOCAL session_replication_role = replica")
            # Transaction i (1-based) credits citizen ((i-1) // RUN) % CITIZENS: citizens get credits
            # in runs of RUN, so even the small ledger has citizens with a full history page.
            cursor.execute(
                """
                INSERT INTO ledger_ledgertransaction (id, kind, fingerprint, reference, memo, metadata, created_at)
                SELECT i, 'bench_credit', '', '', '', '{}', now() FROM generate_series(%s, %s) AS i
                """,
                [done_tx + 1, upto],
            )
            cursor.execute(
                """
                INSERT INTO ledger_posting (transaction_id, account_id, unit, amount, balance_after, created_at)
                SELECT i, x.account_id, 'pt', x.amount, x.balance_after, now()
                FROM generate_series(%(lo)s, %(hi)s) AS i,
                LATERAL (VALUES
                    (%(source)s::bigint, -%(amount)s::bigint, -%(amount)s::bigint * i),
                    (%(first)s + 3 * (((i - 1) / %(run)s) %% %(n)s), %(amount)s,
                     %(amount)s * (((i - 1) / (%(run)s * %(n)s)) * %(run)s + (i - 1) %% %(run)s + 1))
                ) AS x(account_id, amount, balance_after)
                """,
                {
                    "lo": done_tx + 1,
                    "hi": upto,
                    "source": source.pk,
                    "amount": AMOUNT,
                    "first": first_citizen,
                    "n": CITIZENS,
                    "run": RUN,
                },
            )
        done_tx = upto
        step(f"  {done_tx * 2:,} / {want_tx * 2:,} postings")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_ledgeraccount a SET balance = s.total FROM "
            "(SELECT account_id, SUM(amount) AS total FROM ledger_posting GROUP BY account_id) s "
            "WHERE a.id = s.account_id"
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('ledger_ledgertransaction', 'id'), "
            "(SELECT MAX(id) FROM ledger_ledgertransaction))"
        )
        cursor.execute("ANALYZE ledger_posting; ANALYZE ledger_ledgeraccount")


def measure(citizens: list[tuple[int, int]], runs: int) -> dict[str, dict]:
    """Time the reads for a random sample of citizens (the same sample every time)."""
    from rest_framework.test import APIClient

    from accounts.models import User
    from accounts.selectors import carbon_account_balances
    from carbonpoints.ledger.selectors import account_postings

    rng = random.Random(7)
    sample = [citizens[rng.randrange(len(citizens))] for _ in range(runs + 50)]
    users = User.objects.select_related("carbon_account").in_bulk([u for u, _ in sample])
    client = APIClient()

    def balance(i):
        carbon_account_balances(account=users[sample[i][0]].carbon_account)

    def account_request(i):
        client.force_authenticate(users[sample[i][0]])
        response = client.get("/api/v1/me/account")
        assert response.status_code == 200, response.content

    def ledger_request(i):
        client.force_authenticate(users[sample[i][0]])
        response = client.get("/api/v1/me/ledger?account=points")
        assert response.status_code == 200, response.content

    def history_page(i):
        page = list(account_postings(account_ids=[sample[i][1]])[:20])
        assert page

    return {
        "balance read": summary(latencies_ms(balance, runs)),
        "GET /api/v1/me/account (in-process)": summary(latencies_ms(account_request, runs)),
        "history page (20 newest postings)": summary(latencies_ms(history_page, runs)),
        "GET /api/v1/me/ledger (in-process)": summary(latencies_ms(ledger_request, runs)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000, help="postings in the small ledger")
    parser.add_argument(
        "--large", type=int, default=10_000_000, help="postings in the large ledger"
    )
    parser.add_argument("--runs", type=int, default=1000, help="timed reads per figure")
    args = parser.parse_args()

    setup_django()
    from django.conf import settings

    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = []  # measure the reads, not the limiter
    step(f"opening {CITIZENS:,} carbon accounts")
    citizens = reset_and_open_accounts()
    step(f"filling the ledger to {args.small:,} postings")
    grow_ledger(args.small, [acct for _, acct in citizens])
    step("timing reads")
    credited = citizens[
        : max(1, min(CITIZENS, args.small // 2 // RUN))
    ]  # a full page in both ledgers
    small = measure(credited, args.runs)
    step(f"filling the ledger to {args.large:,} postings")
    grow_ledger(args.large, [acct for _, acct in citizens])
    step("timing the same reads")
    large = measure(credited, args.runs)

    rows, figures = [], {}
    for name in small:
        ratio = round(large[name]["p50_ms"] / small[name]["p50_ms"], 2)
        rows.append(
            [
                name,
                small[name]["p50_ms"],
                small[name]["p99_ms"],
                large[name]["p50_ms"],
                large[name]["p99_ms"],
                f"{ratio}×",
            ]
        )
        figures[name] = {"small": small[name], "large": large[name], "p50_ratio": ratio}
    print_table(
        f"reads with {args.small:,} vs {args.large:,} postings ({args.runs} runs each, ms)",
        ["read", "small p50", "small p99", "large p50", "large p99", "large/small p50"],
        rows,
    )
    target_met = all(f["p50_ratio"] <= 1.5 for f in figures.values())
    print(f"target large/small ≤ 1.5×: {'met' if target_met else 'MISSED'}")
    write_results(
        "scale",
        {
            "small_postings": args.small,
            "large_postings": args.large,
            "citizens": CITIZENS,
            "reads": figures,
            "target_met": target_met,
        },
    )


if __name__ == "__main__":
    main()
