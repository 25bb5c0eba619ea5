"""bench/api — citizen reads under load: req/s and p50/p99/p999 from many connections.

Serves the app with gunicorn on PostgreSQL and Redis (the production shape) and loads each
endpoint with wrk, every request signed in as a random citizen through the app's session token.
Run it after bench/ingest so the database holds a realistic city (it works on any data: it
ranks the citizens first and uses those it finds). Targets for GET /api/v1/me/account:
≥ 800 req/s, p99 ≤ 50 ms.
"""

from __future__ import annotations

import argparse

from _common import analyze, print_table, setup_django, step, write_results
from _server import gunicorn, lua_get_with_tokens, session_tokens, wrk

ENDPOINTS = ["/api/v1/me/account", "/api/v1/me/actions", "/api/v1/scenarios"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15, help="load per endpoint")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=5, help="gunicorn workers")
    parser.add_argument("--citizens", type=int, default=2000, help="distinct citizens signed in")
    args = parser.parse_args()

    setup_django()
    from django.urls import Resolver404, resolve

    from accounts.models import User
    from accounts.services import citizen_ranks_recompute

    step("ranking citizens")
    citizen_ranks_recompute()
    analyze()
    users = list(User.objects.filter(carbon_account__isnull=False).order_by("?")[: args.citizens])
    if not users:
        raise SystemExit("no citizens in the benchmark database: run bench/ingest (or bench/scale) first")
    step(f"signing in {len(users):,} citizens")
    tokens = session_tokens(users)
    endpoints = []
    for path in ENDPOINTS:
        try:
            resolve(path)
            endpoints.append(path)
        except Resolver404:
            step(f"skipping {path}: not served by this version")

    figures = {}
    with gunicorn(workers=args.workers) as base:
        for path in endpoints:
            script = lua_get_with_tokens([path], tokens)
            wrk(base + path, script=script, connections=8, seconds=2)  # warm-up
            step(f"loading {path} for {args.seconds} s with {args.connections} connections")
            figures[path] = wrk(base + path, script=script, connections=args.connections, seconds=args.seconds)

    print_table(
        f"citizen reads, {args.connections} connections, gunicorn × {args.workers}",
        ["endpoint", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "errors", "non-2xx"],
        [[p, f["req_per_s"], f["p50_ms"], f["p99_ms"], f["p999_ms"], f["errors"], f["non_2xx"]]
         for p, f in figures.items()],
    )
    account = figures.get("/api/v1/me/account")
    met = bool(account) and account["req_per_s"] >= 800 and account["p99_ms"] <= 50 and not account["non_2xx"]
    print(f"target /me/account ≥ 800 req/s and p99 ≤ 50 ms: {'met' if met else 'MISSED'}")
    write_results("api", {"citizens_signed_in": len(users), "workers": args.workers,
                          "endpoints": figures, "target_met": met})


if __name__ == "__main__":
    main()
