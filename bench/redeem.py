"""bench/redeem — many citizens redeeming at once, and checkouts at the till.

Serves the app with gunicorn on PostgreSQL and Redis, opens a merchant (through the operator
command) whose manager creates scenarios through the API, funds a few thousand citizens, then:
1. throughput (the issue's shape: many citizens redeeming from a few scenarios): wrk posts
   ``POST /api/v1/redemptions`` (a fresh Idempotency-Key each) as random citizens against three
   voucher scenarios of one merchant with a large stock;
2. no oversell (the race proof, not a throughput figure): a scenario with stock 50 and hundreds
   of simultaneous attempts;
3. checkouts: the till takes points as part-payment with single-use payment codes.
4. reads: ``GET /api/v1/me/account`` capacity against the same server (bench/api's code), so
   the ratio redemptions/s : reads/s is measured in one run (target ≥ 0.5).
Then it proves no oversell and no overdraw from the database and runs ``ledger_check``.
Target: ≥ 300 redemptions/s, zero oversell, zero overdraw.

``--flash``: a flash sale instead. 5,000 citizens, one scenario with a stock of 500, every
citizen trying once. The requests are built and the first connections opened before the
clock starts; then they are released together (``--connections`` at a time, each connection
sending its next request as soon as it has an answer). Reports the sold count (exactly the
stock, or the benchmark fails), redemptions/s, p50/p99 latency, oversell, the lowest balance
and ``ledger_check``, the answers per second and the server's CPU per answer. Target: p99 of all
answers ≤ 200 ms. ``--flush-redis``: Redis is flushed once half the stock is sold (the stock gate
is lost mid-sale): still exactly the stock sold (results in ``redeem-flash-flushed.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import time
import uuid
from collections import Counter

import redis
from _common import analyze, print_table, setup_django, step, summary, write_results
from _server import BENCH_REDIS_URL, HOST, gunicorn, ports_free, server_cpu_s, session_tokens, wrk
from api import capacity_run

POINTS_EACH = 100_000
COST = 10


def lua_post(path: str, tokens: list[str], bodies: list[str], *, unique_key: bool) -> str:
    """POST ``path`` as a random citizen with a random body (and a fresh Idempotency-Key)."""
    tokens_lua = ",".join(f'"{t}"' for t in tokens)
    bodies_lua = ",".join("[[" + b + "]]" for b in bodies)
    key = 'headers["Idempotency-Key"] = prefix .. "-" .. n' if unique_key else ""
    return f"""
local tokens = {{{tokens_lua}}}
local bodies = {{{bodies_lua}}}
local n = 0
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
request = function()
  local prefix = tostring(tid) .. "-" .. tostring(os.time())
  n = n + 1
  local headers = {{["X-Session-Token"] = tokens[math.random(#tokens)], ["Content-Type"] = "application/json"}}
  {key}
  return wrk.format("POST", "{path}", headers, bodies[math.random(#bodies)])
end
"""


def lua_checkouts(token: str, codes: list[str], scenario_id: int) -> str:
    """Each request uses the next unused payment code (codes split between wrk's threads)."""
    codes_lua = ",".join(f'"{c}"' for c in codes)
    return f"""
local codes = {{{codes_lua}}}
local counter = 0
local threads = {{}}
setup = function(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
local n = 0
request = function()
  local i = (n * 2) + tid
  n = n + 1
  local code = codes[i] or "000000000000000000"
  local body = string.format('{{"payment_code": "%s", "amount_fen": 3000, "points": 500, '
    .. '"scenario_id": {scenario_id}}}', code)
  return wrk.format("POST", "/api/v1/merchant/checkouts",
    {{["X-Session-Token"] = "{token}", ["Content-Type"] = "application/json"}}, body)
end
"""


def flash_requests(tokens: list[str], scenario_id: int, run: str, path: str) -> list[bytes]:
    """One ready-made ``POST /api/v1/redemptions`` per citizen (its own Idempotency-Key)."""
    body = json.dumps({"scenario_id": scenario_id}).encode()
    return [
        (
            f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nX-Session-Token: {token}\r\n"
            f"Idempotency-Key: flash-{run}-{n}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        + body
        for n, token in enumerate(tokens)
    ]


async def _flash_fire(
    port: int, requests: list[bytes], connections: int, flush_after_sold: int | None
) -> dict:
    """Send every request once, ``connections`` at a time, all released at one instant.

    Each connection is opened before the clock and sends its first request when the gate
    opens; then it sends the next request left as soon as it has an answer (a new connection:
    gunicorn's sync workers close each one). A latency runs from a request's first byte sent
    (for a follow-up, its connect) to the end of its answer. ``flush_after_sold``: Redis (the
    benchmark's database of it) is flushed once that many were sold, as a Redis lost mid-sale.
    """
    queue = list(reversed(requests))
    gate = asyncio.Event()
    outcomes: list[tuple[float, int, str, float]] = []  # (latency s, status, error code, done at)
    flushed: list[float] = []  # when Redis was flushed, s after the start

    async def exchange(reader, writer, request: bytes, started: float) -> None:
        writer.write(request)
        await writer.drain()
        answer = await reader.read()  # until the server closes
        writer.close()
        done = time.perf_counter()
        head, _, body = answer.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head else 0
        code = ""
        if status != 201:
            try:
                code = json.loads(body)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = f"http {status}"
        outcomes.append((done - started, status, code, done))
        if status == 201 and flush_after_sold is not None and not flushed:
            if sum(1 for outcome in outcomes if outcome[1] == 201) >= flush_after_sold:
                flushed.append(time.perf_counter() - clock[0])
                redis.Redis.from_url(BENCH_REDIS_URL).flushdb()

    async def connection_loop(first: tuple) -> None:
        reader, writer = first
        await gate.wait()
        request = queue.pop()
        await exchange(reader, writer, request, clock[0])
        while queue:
            request = queue.pop()
            started = time.perf_counter()
            reader, writer = await asyncio.open_connection(HOST, port)
            await exchange(reader, writer, request, started)

    opened = await asyncio.gather(
        *(asyncio.open_connection(HOST, port) for _ in range(min(connections, len(queue))))
    )
    clock = [0.0]
    tasks = [asyncio.create_task(connection_loop(pair)) for pair in opened]
    await asyncio.sleep(0.2)  # every connection is waiting at the gate
    clock[0] = time.perf_counter()
    gate.set()
    await asyncio.gather(*tasks)
    return {
        "started": clock[0],
        "outcomes": outcomes,
        "flushed_at_s": flushed[0] if flushed else None,
    }


def flash_sale(
    base: str,
    port: int,
    requests: list[bytes],
    connections: int,
    flush_after_sold: int | None = None,
) -> dict:
    """Fire the flash sale's requests at the server; figures for the report."""
    cpu_before = server_cpu_s(base)
    fired = asyncio.run(_flash_fire(port, requests, connections, flush_after_sold))
    cpu_s = server_cpu_s(base) - cpu_before
    started, outcomes = fired["started"], fired["outcomes"]
    finished = max(done for *_, done in outcomes)
    sold_at = sorted(done for _, status, _, done in outcomes if status == 201)
    latency = summary([latency * 1000 for latency, *_ in outcomes])
    sold_latency = summary(
        [latency * 1000 for latency, status, *_ in outcomes if status == 201] or [0]
    )
    return {
        "requests": len(outcomes),
        "connections": connections,
        "answers": dict(Counter(code or str(status) for _, status, code, _ in outcomes)),
        "seconds": round(finished - started, 3),
        "sold_out_after_s": round(sold_at[-1] - started, 3) if sold_at else None,
        "redemptions_per_s": round(len(sold_at) / (sold_at[-1] - started), 1) if sold_at else 0,
        "answers_per_s": round(len(outcomes) / (finished - started), 1),
        "p50_ms": latency["p50_ms"],
        "p99_ms": latency["p99_ms"],
        "mean_ms": latency["mean_ms"],
        "sold_p50_ms": sold_latency["p50_ms"],
        "sold_p99_ms": sold_latency["p99_ms"],
        "server_cpu_ms_per_request": round(cpu_s * 1000 / max(1, len(outcomes)), 2),
        "redis_flushed_at_s": None
        if fired["flushed_at_s"] is None
        else round(fired["flushed_at_s"], 3),
    }


def workers_booted(base: str, *, quiet_s: float = 0.5, timeout_s: float = 60) -> None:
    """Wait until every gunicorn worker has loaded the app: the server idle for ``quiet_s``.

    The health check is answered by the first worker up; the others were still importing Django
    and the app (about 1 s of CPU each) while the flash sale's first sales ran, and took that CPU
    from them (py-spy: ``Worker.init_process`` in 9 % of the server's samples during the sale).
    """
    deadline = time.monotonic() + timeout_s
    before = server_cpu_s(base)
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = server_cpu_s(base)
        if now - before < 0.05 * quiet_s:
            return
        before = now


def shape(args) -> str:
    return (
        f"gunicorn {args.workers} × {args.worker_class}"
        + (f" × {args.threads} threads" if args.worker_class == "gthread" else "")
        + (", answers ?qr=none" if args.qr == "none" else "")
    )


def redemptions_path(args) -> str:
    """``POST /api/v1/redemptions``, with ``?qr=none`` when the run asks for the lean answer."""
    return "/api/v1/redemptions" + ("?qr=none" if args.qr == "none" else "")


def results_suffix(args) -> str:
    return "-qr-none" if args.qr == "none" else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flash", action="store_true", help="a flash sale instead (see above)")
    parser.add_argument("--citizens", type=int, help="default 2,000 (5,000 with --flash)")
    parser.add_argument("--stock", type=int, default=500, help="the flash sale's stock")
    parser.add_argument(
        "--flush-redis",
        action="store_true",
        help="with --flash: flush Redis once half the stock is sold (a Redis lost mid-sale)",
    )
    parser.add_argument(
        "--qr",
        choices=["svg", "none"],
        default="svg",
        help="the answer's form: svg (the default, the QR drawn in) or none (?qr=none: the app "
        "draws it); results of none go to redeem-qr-none.json / redeem-flash-qr-none.json",
    )
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--worker-class", default="gthread", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    args = parser.parse_args()
    ports_free()  # a taken port stops the benchmark before its setup
    args.citizens = args.citizens or (5000 if args.flash else 2000)

    # The server's Redis in this process too: the tokens are issued here as a sign-in issues
    # them, their sessions, hints and cached users in the server's cache (as bench/api does).
    os.environ["REDIS_URL"] = BENCH_REDIS_URL
    setup_django()
    from django.core.management import call_command
    from django.db import transaction
    from django.db.models import Min, Sum
    from rest_framework.test import APIClient

    from accounts.ledger_accounts import POINTS
    from accounts.models import CarbonAccount, User
    from accounts.services import citizen_create
    from carbonpoints.ledger.models import LedgerAccount
    from carbonpoints.ledger.services import Leg, ledger_account_get_or_create, transaction_post
    from redemption.models import Checkout, Redemption, Scenario
    from redemption.services import payment_code_issue

    run = uuid.uuid4().hex[:8]
    step(
        f"opening merchant bench-{run} and funding {args.citizens:,} citizens with {POINTS_EACH:,} points"
    )
    out = io.StringIO()
    call_command(
        "create_merchant",
        "--name",
        f"Bench Mart {run}",
        "--manager-email",
        f"manager-{run}@bench.cn",
        "--json",
        stdout=out,
    )
    manager = User.objects.get(email=json.loads(out.getvalue())["manager_email"])
    source = ledger_account_get_or_create(
        kind="bench_points_source", unit="pt", allow_negative=True
    )
    citizens = []
    with transaction.atomic():
        for n in range(args.citizens):
            user = citizen_create(email=f"r{n}-{run}@bench.cn")
            points = LedgerAccount.objects.get(kind=POINTS[0], owner_id=user.carbon_account.pk)
            transaction_post(
                kind="bench_fund", legs=[Leg(source, -POINTS_EACH), Leg(points, POINTS_EACH)]
            )
            citizens.append(user)

    analyze()
    api = APIClient()
    api.force_authenticate(manager)

    def scenario(**body) -> int:
        response = api.post("/api/v1/merchant/scenarios", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()["id"]

    step(f"signing in {len(citizens):,} citizens")
    tokens = session_tokens(citizens)

    def proof_of(scenario_ids: list[int]) -> dict:
        """No oversell, no overdraw, ledger_check: read from the database after the server has answered."""
        oversold = [
            s.pk
            for s in Scenario.objects.filter(pk__in=scenario_ids)
            if s.stock_left < 0
            or Redemption.objects.filter(scenario=s).count() + s.stock_left != s.stock
        ]
        lowest = LedgerAccount.objects.filter(
            kind=POINTS[0],
            owner_id__in=CarbonAccount.objects.filter(user__in=citizens).values("pk"),
        ).aggregate(low=Min("balance"))["low"]
        spent = (
            Redemption.objects.filter(scenario_id__in=scenario_ids).aggregate(
                p=Sum("points_spent")
            )["p"]
            or 0
        )
        check = io.StringIO()
        try:
            call_command("ledger_check", "--json", stdout=check)
        except Exception:
            pass
        return {
            "oversold_scenarios": oversold,
            "lowest_citizen_balance": lowest,
            "points_spent": spent,
            "ledger_check_ok": json.loads(check.getvalue())["ok"],
        }

    if args.flash:
        flash_main(args, run, scenario, tokens, proof_of)
        return

    big = [
        scenario(kind="voucher", title=f"Bench voucher {k}", points_cost=COST, stock=200_000)
        for k in range(3)
    ]
    small = scenario(kind="voucher", title="Bench limited", points_cost=COST, stock=50)
    offset = scenario(
        kind="points_offset", title="Bench points off", points_per_yuan=100, max_share="0.3"
    )
    manager_token = session_tokens([manager])[0]
    codes = [payment_code_issue(citizen=c.carbon_account).code for c in citizens for _ in range(3)]

    figures = {}
    load_before = os.getloadavg()
    with gunicorn(
        workers=args.workers, worker_class=args.worker_class, threads=args.threads
    ) as base:
        workers_booted(base)
        step(f"redeeming for {args.seconds} s with {args.connections} connections")
        bodies = [json.dumps({"scenario_id": s}) for s in big]
        before = Redemption.objects.count()
        cpu_before = server_cpu_s(base)
        started = time.perf_counter()
        load = wrk(
            base + redemptions_path(args),
            script=lua_post(redemptions_path(args), tokens, bodies, unique_key=True),
            connections=args.connections,
            seconds=args.seconds,
        )
        elapsed = time.perf_counter() - started
        made = Redemption.objects.count() - before
        figures["redemptions"] = {
            **load,
            "redemptions": made,
            "redemptions_per_s": round(made / elapsed, 1),
            "server_cpu_ms_per_request": round(
                (server_cpu_s(base) - cpu_before) * 1000 / max(1, load["requests"]), 2
            ),
        }

        # the same server, the same citizens, moments later: the ratio is what survives a busy machine
        figures["me_account"] = capacity_run(
            base, "/api/v1/me/account", tokens, connections=args.connections, seconds=args.seconds
        )

        step("racing for a stock of 50")
        race = wrk(
            base + "/api/v1/redemptions",
            script=lua_post(
                "/api/v1/redemptions", tokens, [json.dumps({"scenario_id": small})], unique_key=True
            ),
            connections=args.connections,
            seconds=3,
        )
        figures["race_for_50"] = race

        step("checkouts at the till")
        before = Checkout.objects.count()
        started = time.perf_counter()
        till = wrk(
            base + "/api/v1/merchant/checkouts",
            script=lua_checkouts(manager_token, codes, offset),
            connections=min(args.connections, 32),
            seconds=min(args.seconds, 10),
        )
        elapsed = time.perf_counter() - started
        paid = Checkout.objects.count() - before
        figures["checkouts"] = {
            **till,
            "checkouts": paid,
            "checkouts_per_s": round(paid / elapsed, 1),
        }

    step("proving no oversell and no overdraw")  # after the server has answered every request
    figures["race_for_50"]["sold"] = Redemption.objects.filter(scenario_id=small).count()
    proof = {**proof_of([*big, small]), "sold_of_50": figures["race_for_50"]["sold"]}
    oversold, lowest, ledger_ok = (
        proof["oversold_scenarios"],
        proof["lowest_citizen_balance"],
        proof["ledger_check_ok"],
    )

    r, c, reads = figures["redemptions"], figures["checkouts"], figures["me_account"]
    ratio = round(r["redemptions_per_s"] / reads["req_per_s"], 2) if reads["req_per_s"] else 0
    figures["ratio_redemptions_to_reads"] = ratio
    print_table(
        f"redemptions and checkouts, {args.citizens:,} citizens, {shape(args)} "
        f"(load average before: {load_before[0]:.1f})",
        ["figure", "value", "target"],
        [
            ["redemptions/s (random citizens, 3 scenarios)", r["redemptions_per_s"], "≥ 300"],
            [
                "redemption p50 / p99 / p99.9, ms",
                f"{r['p50_ms']} / {r['p99_ms']} / {r['p999_ms']}",
                "",
            ],
            ["server CPU ms per redemption", r["server_cpu_ms_per_request"], "≤ 3"],
            ["GET /me/account reads/s (same server, same run)", reads["req_per_s"], ""],
            ["server CPU ms per read", reads["server_cpu_ms_per_request"], ""],
            ["redemptions/s ÷ reads/s", ratio, "≥ 0.5"],
            ["checkouts/s", c["checkouts_per_s"], ""],
            ["checkout p50 / p99, ms", f"{c['p50_ms']} / {c['p99_ms']}", ""],
            ["sold of a stock of 50 (many racing)", proof["sold_of_50"], "50"],
            ["oversold scenarios", len(oversold), "0"],
            ["lowest citizen balance", lowest, "≥ 0"],
            ["ledger_check", "ok" if ledger_ok else "FAILED", "ok"],
        ],
    )
    met = (
        r["redemptions_per_s"] >= 300
        and ratio >= 0.5
        and not oversold
        and proof["sold_of_50"] == 50
        and lowest >= 0
        and ledger_ok
    )
    print(f"targets: {'met' if met else 'MISSED'}")
    write_results(
        "redeem" + results_suffix(args),
        {
            "citizens": args.citizens,
            "server": shape(args),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
            **figures,
            "proof": proof,
            "target_met": met,
        },
    )
    if oversold or lowest < 0 or not ledger_ok or proof["sold_of_50"] != 50:
        raise SystemExit("oversell or overdraw: see above")


def flash_main(args, run: str, scenario, tokens: list[str], proof_of) -> None:
    """The flash sale: one scenario, every citizen trying once, all released at once."""
    from _server import PORT

    from redemption.models import Redemption

    flash = scenario(kind="voucher", title="Bench flash sale", points_cost=COST, stock=args.stock)
    requests = flash_requests(tokens, flash, run, redemptions_path(args))  # built before the clock
    load_before = os.getloadavg()
    with gunicorn(
        workers=args.workers, worker_class=args.worker_class, threads=args.threads
    ) as base:
        workers_booted(base)
        step(
            f"flash sale: {len(requests):,} citizens for a stock of {args.stock:,}, "
            f"{args.connections} connections released together"
        )
        sale = flash_sale(
            base,
            PORT,
            requests,
            args.connections,
            flush_after_sold=args.stock // 2 if args.flush_redis else None,
        )

    step("proving no oversell and no overdraw")
    sold = Redemption.objects.filter(scenario_id=flash).count()
    proof = {**proof_of([flash]), "sold": sold}
    answers = ", ".join(f"{code} {n:,}" for code, n in sorted(sale["answers"].items()))
    print_table(
        f"flash sale: {len(requests):,} citizens, stock {args.stock:,}, {args.connections} connections, "
        f"{shape(args)} (load average before: {load_before[0]:.1f})",
        ["figure", "value", "target"],
        [
            ["sold / stock", f"{sold} / {args.stock}", f"exactly {args.stock}"],
            ["answers", answers, ""],
            ["redemptions/s (until sold out)", sale["redemptions_per_s"], ""],
            ["sold out after, s", sale["sold_out_after_s"], ""],
            ["answers/s (all requests)", sale["answers_per_s"], ""],
            [
                "p50 / p99 latency, all answers, ms",
                f"{sale['p50_ms']} / {sale['p99_ms']}",
                "p99 ≤ 200",
            ],
            [
                "p50 / p99 latency, the sold ones, ms",
                f"{sale['sold_p50_ms']} / {sale['sold_p99_ms']}",
                "",
            ],
            ["server CPU ms per answer", sale["server_cpu_ms_per_request"], ""],
            [
                "Redis flushed mid-sale, s after the start",
                "no" if sale["redis_flushed_at_s"] is None else sale["redis_flushed_at_s"],
                "",
            ],
            ["oversold", len(proof["oversold_scenarios"]), "0"],
            ["lowest citizen balance", proof["lowest_citizen_balance"], "≥ 0"],
            ["ledger_check", "ok" if proof["ledger_check_ok"] else "FAILED", "ok"],
        ],
    )
    sound = (
        sold == args.stock
        and not proof["oversold_scenarios"]
        and proof["lowest_citizen_balance"] >= 0
        and proof["ledger_check_ok"]
    )
    met = sound and sale["p99_ms"] <= 200
    print(f"targets: {'met' if met else 'MISSED'}")
    write_results(
        ("redeem-flash-flushed" if args.flush_redis else "redeem-flash") + results_suffix(args),
        {
            "citizens": len(requests),
            "stock": args.stock,
            "server": shape(args),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
            "flash_sale": sale,
            "proof": proof,
            "target_met": met,
        },
    )
    if sold != args.stock:
        raise SystemExit(f"FAILED: sold {sold} of a stock of {args.stock}, not exactly the stock")
    if not sound:
        raise SystemExit("FAILED: oversell, overdraw or ledger_check: see above")


if __name__ == "__main__":
    main()
