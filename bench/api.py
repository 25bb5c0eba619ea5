"""bench/api — citizen reads under load: the most a server shape serves, and latency at a set rate.

Serves the app with gunicorn on PostgreSQL and Redis (the production shape) and loads each
endpoint with wrk, every request signed in as a random citizen through the app's session token.
The same server also serves the **framework floor** (``/api/v1/bench/floor``: a DRF view answering
constant JSON with no authentication and no database, mounted only because this benchmark sets
``BENCH_FLOOR``), loaded the same way before and after the endpoints; each endpoint's req/s is
printed as a share of the floor's (their mean), measured in the same run. The catalogue is topped up
to 20 live scenarios (one bench merchant) so that ``/scenarios`` answers a full page.
Run it after bench/ingest so the database holds a realistic city (it works on any data: it
ranks the citizens first and uses those it finds). Targets for GET /api/v1/me/account:
≥ 800 req/s, p99 ≤ 50 ms.

Two figures per endpoint, because one closed-loop run cannot show both: with N connections each
waiting for its answer, mean latency = N / throughput (Little's law), so 64 connections at
800 req/s means ≥ 80 ms mean whatever the server does.
- **capacity**: closed loop, ``--connections`` (64) connections, as fast as the server answers:
  the maximum throughput; its latencies are queueing in front of a saturated server.
- **paced**: ``--paced-connections`` (16) connections, each pausing between requests (wrk's
  ``delay()``, calibrated by a short first run) so that together they offer about ``--rate``
  (800) req/s. wrk2 (a constant-rate wrk) is not packaged for Debian; this is wrk pacing a closed
  loop, so its latencies are not corrected for coordinated omission: trust them only when the
  achieved rate (reported) is the rate asked for.
"""

from __future__ import annotations

import argparse
import os

from _common import analyze, print_table, setup_django, step, write_results
from _server import (
    BENCH_REDIS_URL,
    gunicorn,
    lua_get_with_tokens,
    ports_free,
    server_cpu_s,
    server_env,
    session_tokens,
    wrk,
)

ENDPOINTS = ["/api/v1/me/account", "/api/v1/me/actions", "/api/v1/scenarios"]
FLOOR = "/api/v1/bench/floor"
CATALOGUE = 20


def catalogue_filled(size: int = CATALOGUE) -> None:
    """At least ``size`` live scenarios (a bench merchant's vouchers), so /scenarios answers a full page."""
    from redemption.models import Merchant
    from redemption.selectors import scenario_catalogue
    from redemption.services import merchant_create, scenario_create

    missing = size - scenario_catalogue().count()
    if missing <= 0:
        return
    step(f"adding {missing} bench scenarios to the catalogue")
    merchant = (
        Merchant.objects.filter(name="Bench catalogue").first()
        or merchant_create(name="Bench catalogue", manager_email="catalogue-manager@bench.cn")[0]
    )
    for n in range(missing):
        scenario_create(
            merchant=merchant,
            kind="voucher",
            title=f"Bench voucher {n}",
            description="A voucher of the benchmark's catalogue.",
            points_cost=100 + n,
            stock=1_000_000,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15, help="load per endpoint")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--worker-class", default="gthread", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--rate", type=int, default=800, help="offered req/s of the paced run")
    parser.add_argument("--paced-connections", type=int, default=16)
    parser.add_argument("--citizens", type=int, default=2000, help="distinct citizens signed in")
    parser.add_argument("--endpoint", action="append", help="only these paths (repeatable)")
    args = parser.parse_args()
    ports_free()  # a taken port stops the benchmark before its setup

    # The server's Redis in this process too: the tokens are issued here as a sign-in issues them
    # (their sessions, and whatever the version under test writes then, in the server's cache).
    os.environ["REDIS_URL"] = BENCH_REDIS_URL
    setup_django()
    from django.urls import Resolver404, resolve

    from accounts.models import User
    from accounts.services import citizen_ranks_recompute

    step("ranking citizens")
    citizen_ranks_recompute()
    catalogue_filled()
    analyze()
    users = list(User.objects.filter(carbon_account__isnull=False).order_by("?")[: args.citizens])
    if not users:
        raise SystemExit(
            "no citizens in the benchmark database: run bench/ingest (or bench/scale) first"
        )
    step(f"signing in {len(users):,} citizens")
    tokens = session_tokens(users)
    endpoints = []
    for path in args.endpoint or ENDPOINTS:
        try:
            resolve(path)
            endpoints.append(path)
        except Resolver404:
            step(f"skipping {path}: not served by this version")

    server = {
        "workers": args.workers,
        "worker_class": args.worker_class,
        "threads": args.threads if args.worker_class == "gthread" else 1,
    }
    shape = f"gunicorn {args.workers} × {args.worker_class}" + (
        f" × {args.threads} threads" if args.worker_class == "gthread" else ""
    )
    figures = {}
    load_before = os.getloadavg()
    floors = []
    env = {**server_env(), "BENCH_FLOOR": "true"}
    with gunicorn(
        workers=args.workers, worker_class=args.worker_class, threads=args.threads, env=env
    ) as base:
        floors.append(
            capacity_run(base, FLOOR, tokens, connections=args.connections, seconds=args.seconds)
        )
        for path in endpoints:
            capacity = capacity_run(
                base, path, tokens, connections=args.connections, seconds=args.seconds
            )
            paced = paced_run(
                base + path,
                [path],
                tokens,
                rate=args.rate,
                connections=args.paced_connections,
                seconds=args.seconds,
            )
            figures[path] = {"capacity": capacity, "paced": paced}
        floors.append(
            capacity_run(base, FLOOR, tokens, connections=args.connections, seconds=args.seconds)
        )
    floor = {
        "req_per_s": round(sum(f["req_per_s"] for f in floors) / len(floors), 1),
        "server_cpu_ms_per_request": round(
            sum(f["server_cpu_ms_per_request"] for f in floors) / len(floors), 2
        ),
        "runs": floors,
        "how": "GET /api/v1/bench/floor before and after the endpoints (mean of the two), same server",
    }
    for f in figures.values():
        f["share_of_floor"] = round(f["capacity"]["req_per_s"] / floor["req_per_s"], 3)

    print_table(
        f"capacity: closed loop, {args.connections} connections, {shape}",
        [
            "endpoint",
            "req/s",
            "share of floor",
            "server CPU ms/req",
            "mean ms",
            "p50 ms",
            "p99 ms",
            "p99.9 ms",
            "errors",
            "non-2xx",
        ],
        [
            *(
                [
                    f"{FLOOR} (run {n + 1})",
                    r["req_per_s"],
                    "",
                    r["server_cpu_ms_per_request"],
                    r["mean_ms"],
                    r["p50_ms"],
                    r["p99_ms"],
                    r["p999_ms"],
                    r["errors"],
                    r["non_2xx"],
                ]
                for n, r in enumerate(floors)
            ),
            *(
                [
                    p,
                    f["capacity"]["req_per_s"],
                    f"{f['share_of_floor']:.0%}",
                    f["capacity"]["server_cpu_ms_per_request"],
                    f["capacity"]["mean_ms"],
                    f["capacity"]["p50_ms"],
                    f["capacity"]["p99_ms"],
                    f["capacity"]["p999_ms"],
                    f["capacity"]["errors"],
                    f["capacity"]["non_2xx"],
                ]
                for p, f in figures.items()
            ),
        ],
    )
    print_table(
        f"latency at ~{args.rate} req/s offered: {args.paced_connections} connections paced by wrk delay(), {shape}",
        ["endpoint", "achieved req/s", "p50 ms", "p99 ms", "p99.9 ms", "errors", "non-2xx"],
        [
            [
                p,
                f["paced"]["req_per_s"],
                f["paced"]["p50_ms"],
                f["paced"]["p99_ms"],
                f["paced"]["p999_ms"],
                f["paced"]["errors"],
                f["paced"]["non_2xx"],
            ]
            for p, f in figures.items()
        ],
    )
    account = figures.get("/api/v1/me/account")
    throughput_met = (
        bool(account)
        and account["capacity"]["req_per_s"] >= 800
        and not account["capacity"]["non_2xx"]
    )
    latency_met = (
        bool(account)
        and account["paced"]["req_per_s"] >= 0.95 * 800
        and account["paced"]["p99_ms"] <= 50
        and not account["paced"]["non_2xx"]
    )
    floor_met = bool(account) and account["share_of_floor"] >= 0.5
    print(
        f"floor: {floor['req_per_s']} req/s at {floor['server_cpu_ms_per_request']} ms server CPU per request"
    )
    print(f"target /me/account ≥ 50 % of the floor: {'met' if floor_met else 'MISSED'}")
    for p in ("/api/v1/me/actions", "/api/v1/scenarios"):
        if p in figures:
            cpu = figures[p]["capacity"]["server_cpu_ms_per_request"]
            print(
                f"target {p} ≤ 2 ms server CPU per request: {'met' if cpu <= 2 else 'MISSED'} ({cpu} ms)"
            )
    print(f"target /me/account ≥ 800 req/s (capacity): {'met' if throughput_met else 'MISSED'}")
    print(
        f"target /me/account p99 ≤ 50 ms at 800 req/s (paced, achieved ≥ 760 req/s): "
        f"{'met' if latency_met else 'MISSED'}"
    )
    write_results(
        "api",
        {
            "citizens_signed_in": len(users),
            "server": server,
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
            "floor": floor,
            "endpoints": figures,
            "target_floor_share_met": floor_met,
            "target_throughput_met": throughput_met,
            "target_latency_met": latency_met,
            "target_met": throughput_met and latency_met,
            "method": __doc__.split("\n\n", 2)[2],
        },
    )


def capacity_run(
    base: str, path: str, tokens: list[str], *, connections: int, seconds: int
) -> dict:
    """The most ``GET path`` the server at ``base`` answers: a short warm-up, then a closed loop of
    ``connections`` connections as random citizens, with the server's CPU per request.

    bench/redeem calls it too, to measure reads against its own server in the same run."""
    script = lua_get_with_tokens([path], tokens)
    wrk(base + path, script=script, connections=8, seconds=2)  # warm-up
    step(f"capacity: {path} for {seconds} s, closed loop, {connections} connections")
    cpu_before = server_cpu_s(base)
    capacity = wrk(base + path, script=script, connections=connections, seconds=seconds)
    capacity["server_cpu_ms_per_request"] = round(
        (server_cpu_s(base) - cpu_before) * 1000 / max(1, capacity["requests"]), 2
    )
    capacity["how"] = f"closed loop, {connections} connections, no pause"
    return capacity


def paced_run(
    url: str, paths: list[str], tokens: list[str], *, rate: int, connections: int, seconds: int
) -> dict:
    """Offer about ``rate`` req/s from ``connections`` connections, each pausing between requests.

    A connection's cycle is its pause plus the answer's latency; a 3 s first run measures the
    latency at that load and the pause is set so that a cycle lasts ``connections / rate``.
    """
    cycle_ms = connections * 1000 / rate
    probe = wrk(
        url,
        script=lua_get_with_tokens(paths, tokens, delay_ms=cycle_ms),
        connections=connections,
        seconds=3,
    )
    delay_ms = max(1.0, cycle_ms - probe["mean_ms"])
    step(
        f"paced: {paths[0]} for {seconds} s, {connections} connections, {delay_ms:.0f} ms pause "
        f"(aiming at {rate} req/s)"
    )
    result = wrk(
        url,
        script=lua_get_with_tokens(paths, tokens, delay_ms=delay_ms),
        connections=connections,
        seconds=seconds,
    )
    result["offered_req_per_s"] = rate
    result["delay_ms"] = round(delay_ms)
    result["how"] = (
        f"{connections} connections, each pausing {round(delay_ms)} ms after every answer "
        f"(wrk delay), aiming at {rate} req/s; latency not corrected for coordinated omission"
    )
    return result


if __name__ == "__main__":
    main()
