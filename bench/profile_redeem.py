"""bench/profile_redeem.py — in-process cost of one redemption and one checkout (CPU, queries).

Runs on the benchmark database (``BENCH_DATABASE_URL``), no server: each figure is the median
over ``--runs`` calls of the service or of the API view through Django's test client, so it
measures the code path, not the machine's other load. ``--profile`` prints a cProfile of the
view loop (CPU time: ``time.process_time``). The citizen calls the API as the app does, with an
``X-Session-Token``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import time
import uuid

from _common import setup_django, step
from _server import session_tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument(
        "--profile", choices=["redemption", "checkout"], help="cProfile this API call"
    )
    parser.add_argument(
        "--sort", default="cumulative", help="cProfile order: cumulative or tottime"
    )
    parser.add_argument(
        "--queries", action="store_true", help="print the queries of one API redemption"
    )
    args = parser.parse_args()
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS = ["*"]
    from accounts.ledger_accounts import POINTS
    from accounts.services import citizen_create
    from carbonpoints.ledger.models import LedgerAccount
    from carbonpoints.ledger.services import Leg, ledger_account_get_or_create, transaction_post
    from redemption import services
    from redemption.models import Scenario

    run = uuid.uuid4().hex[:8]
    merchant, _ = services.merchant_create(name=f"Profile {run}", manager_email=f"m-{run}@p.cn")
    manager = merchant.staff.get().user
    scenario = services.scenario_create(
        merchant=merchant, kind="voucher", title="p", points_cost=1, stock=1_000_000
    )
    offset = services.scenario_create(
        merchant=merchant, kind="points_offset", title="o", points_per_yuan=100, max_share_bp=3000
    )
    source = ledger_account_get_or_create(
        kind="bench_points_source", unit="pt", allow_negative=True
    )
    user = citizen_create(email=f"p-{run}@p.cn")
    points = LedgerAccount.objects.get(kind=POINTS[0], owner_id=user.carbon_account.pk)
    transaction_post(kind="bench_fund", legs=[Leg(source, -(10**9)), Leg(points, 10**9)])
    citizen = user.carbon_account
    # signed in as the app is, by X-Session-Token (the benchmarks' path), not a session cookie
    client = Client(HTTP_X_SESSION_TOKEN=session_tokens([user])[0])
    till = Client()
    till.force_login(manager)

    def measure(name, fn):
        for i in range(20):
            fn(f"warm-{i}")
        cpu, wall = [], []
        with CaptureQueriesContext(connection) as queries:
            fn("count")
        n_queries = len(queries)
        sqls = [q["sql"] for q in queries.captured_queries]
        for i in range(args.runs):
            c0, w0 = time.process_time(), time.perf_counter()
            fn(str(i))
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
        row = {
            "cpu_ms": round(statistics.median(cpu), 2),
            "wall_ms": round(statistics.median(wall), 2),
            "queries": n_queries,
        }
        print(f"{name:32} {json.dumps(row)}")
        return sqls

    def service(key):
        services.redemption_create(
            citizen=citizen, scenario_id=scenario.pk, idempotency_key=f"{run}-s-{key}"
        )

    def view(key, query=""):  # query "?qr=none": the opt-in answer without the QR
        r = client.post(
            f"/api/v1/redemptions{query}",
            {"scenario_id": scenario.pk},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"{run}-v{query}-{key}",
        )
        assert r.status_code == 201, r.content

    def view_lean(key):  # the app draws the QR from the code
        view(key, "?qr=none")

    def checkout(key):
        code = services.payment_code_issue(citizen=citizen).code
        r = till.post(
            "/api/v1/merchant/checkouts",
            {"payment_code": code, "amount_fen": 3000, "points": 500, "scenario_id": offset.pk},
            content_type="application/json",
        )
        assert r.status_code == 201, r.content

    sold_out = services.scenario_create(
        merchant=merchant, kind="voucher", title="gone", points_cost=1, stock=1
    )
    Scenario.objects.filter(pk=sold_out.pk).update(stock_left=0)

    def refused(key):  # a flash sale's answer once the stock is gone (the gate in Redis answers)
        r = client.post(
            "/api/v1/redemptions",
            {"scenario_id": sold_out.pk},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"{run}-x-{key}",
        )
        assert r.status_code == 409, r.content

    fresh_tokens = iter(session_tokens([user] * (args.runs + 21)))

    def refused_first(key):  # the same, as a token's first request (a flash sale's citizens')
        r = client.post(
            "/api/v1/redemptions",
            {"scenario_id": sold_out.pk},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"{run}-f-{key}",
            HTTP_X_SESSION_TOKEN=next(fresh_tokens),
        )
        assert r.status_code == 409, r.content

    step(f"{args.runs} runs each")
    measure("redemption_create (service)", service)
    q = measure("POST /api/v1/redemptions", view)
    measure("POST /api/v1/redemptions?qr=none", view_lean)
    measure("POST /api/v1/redemptions sold out", refused)
    measure("  the same, a token's first", refused_first)
    q_checkout = measure("POST /merchant/checkouts (+code)", checkout)
    if args.queries:
        for sql in q:
            print("   ", sql[:200])
        print("  checkout:")
        for sql in q_checkout:
            print("   ", sql[:200])
    if args.profile:
        profiler = cProfile.Profile(time.process_time)  # CPU, not the load's waits
        profiler.enable()
        for i in range(args.runs):
            (view if args.profile == "redemption" else checkout)(f"prof-{i}")
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(45)


if __name__ == "__main__":
    main()
