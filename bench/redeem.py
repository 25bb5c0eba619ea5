"""bench/redeem — many citizens redeeming at once, and checkouts at the till.

Serves the app with gunicorn on PostgreSQL and Redis, opens a merchant (through the operator
command) whose manager creates scenarios through the API, funds a few thousand citizens, then:
1. throughput (the issue's shape: many citizens redeeming from a few scenarios): wrk posts
   ``POST /api/v1/redemptions`` (a fresh Idempotency-Key each) as random citizens against three
   voucher scenarios of one merchant with a large stock;
2. no oversell (the race proof, not a throughput figure): a scenario with stock 50 and hundreds
   of simultaneous attempts;
3. checkouts: the till takes points as part-payment with single-use payment codes.
Then it proves no oversell and no overdraw from the database and runs ``ledger_check``.
Target: ≥ 300 redemptions/s, zero oversell, zero overdraw.
"""

from __future__ import annotations

import argparse
import io
import json
import time
import uuid

from _common import analyze, print_table, setup_django, step, write_results
from _server import gunicorn, session_tokens, wrk

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
  local body = string.format('{{"payment_code": "%s", "amount_fen": 3000, "points": 500, "scenario_id": {scenario_id}}}', code)
  return wrk.format("POST", "/api/v1/merchant/checkouts",
    {{["X-Session-Token"] = "{token}", ["Content-Type"] = "application/json"}}, body)
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=5, help="gunicorn workers")
    args = parser.parse_args()

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
    step(f"opening merchant bench-{run} and funding {args.citizens:,} citizens with {POINTS_EACH:,} points")
    out = io.StringIO()
    call_command("create_merchant", "--name", f"Bench Mart {run}", "--manager-email",
                 f"manager-{run}@bench.cn", "--json", stdout=out)
    manager = User.objects.get(email=json.loads(out.getvalue())["manager_email"])
    source = ledger_account_get_or_create(kind="bench_points_source", unit="pt", allow_negative=True)
    citizens = []
    with transaction.atomic():
        for n in range(args.citizens):
            user = citizen_create(email=f"r{n}-{run}@bench.cn")
            points = LedgerAccount.objects.get(kind=POINTS[0], owner_id=user.carbon_account.pk)
            transaction_post(kind="bench_fund", legs=[Leg(source, -POINTS_EACH), Leg(points, POINTS_EACH)])
            citizens.append(user)

    analyze()
    api = APIClient()
    api.force_authenticate(manager)

    def scenario(**body) -> int:
        response = api.post("/api/v1/merchant/scenarios", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()["id"]

    big = [scenario(kind="voucher", title=f"Bench voucher {k}", points_cost=COST, stock=200_000) for k in range(3)]
    small = scenario(kind="voucher", title="Bench limited", points_cost=COST, stock=50)
    offset = scenario(kind="points_offset", title="Bench points off", points_per_yuan=100, max_share="0.3")
    tokens = session_tokens(citizens)
    manager_token = session_tokens([manager])[0]
    codes = [payment_code_issue(citizen=c.carbon_account).code for c in citizens for _ in range(3)]

    figures = {}
    with gunicorn(workers=args.workers) as base:
        step(f"redeeming for {args.seconds} s with {args.connections} connections")
        bodies = [json.dumps({"scenario_id": s}) for s in big]
        before = Redemption.objects.count()
        started = time.perf_counter()
        load = wrk(base + "/api/v1/redemptions", script=lua_post("/api/v1/redemptions", tokens, bodies, unique_key=True),
                   connections=args.connections, seconds=args.seconds)
        elapsed = time.perf_counter() - started
        made = Redemption.objects.count() - before
        figures["redemptions"] = {**load, "redemptions": made, "redemptions_per_s": round(made / elapsed, 1)}

        step("racing for a stock of 50")
        race = wrk(base + "/api/v1/redemptions",
                   script=lua_post("/api/v1/redemptions", tokens, [json.dumps({"scenario_id": small})], unique_key=True),
                   connections=args.connections, seconds=3)
        figures["race_for_50"] = race

        step("checkouts at the till")
        before = Checkout.objects.count()
        started = time.perf_counter()
        till = wrk(base + "/api/v1/merchant/checkouts", script=lua_checkouts(manager_token, codes, offset),
                   connections=min(args.connections, 32), seconds=min(args.seconds, 10))
        elapsed = time.perf_counter() - started
        paid = Checkout.objects.count() - before
        figures["checkouts"] = {**till, "checkouts": paid, "checkouts_per_s": round(paid / elapsed, 1)}

    step("proving no oversell and no overdraw")  # after the server has answered every request
    figures["race_for_50"]["sold"] = Redemption.objects.filter(scenario_id=small).count()
    oversold = [
        s.pk for s in Scenario.objects.filter(pk__in=[*big, small])
        if s.stock_left < 0 or Redemption.objects.filter(scenario=s).count() + s.stock_left != s.stock
    ]
    lowest = LedgerAccount.objects.filter(
        kind=POINTS[0], owner_id__in=CarbonAccount.objects.filter(user__in=citizens).values("pk")
    ).aggregate(low=Min("balance"))["low"]
    spent = Redemption.objects.filter(scenario_id__in=[*big, small]).aggregate(p=Sum("points_spent"))["p"] or 0
    check = io.StringIO()
    try:
        call_command("ledger_check", "--json", stdout=check)
    except Exception:
        pass
    ledger_ok = json.loads(check.getvalue())["ok"]
    proof = {"oversold_scenarios": oversold, "sold_of_50": figures["race_for_50"]["sold"],
             "lowest_citizen_balance": lowest, "points_spent": spent, "ledger_check_ok": ledger_ok}

    r, c = figures["redemptions"], figures["checkouts"]
    print_table(
        f"redemptions and checkouts, {args.citizens:,} citizens, gunicorn × {args.workers}",
        ["figure", "value", "target"],
        [
            ["redemptions/s (random citizens, 3 scenarios)", r["redemptions_per_s"], "≥ 300"],
            ["redemption p50 / p99 / p99.9, ms", f"{r['p50_ms']} / {r['p99_ms']} / {r['p999_ms']}", ""],
            ["checkouts/s", c["checkouts_per_s"], ""],
            ["checkout p50 / p99, ms", f"{c['p50_ms']} / {c['p99_ms']}", ""],
            ["sold of a stock of 50 (many racing)", proof["sold_of_50"], "50"],
            ["oversold scenarios", len(oversold), "0"],
            ["lowest citizen balance", lowest, "≥ 0"],
            ["ledger_check", "ok" if ledger_ok else "FAILED", "ok"],
        ],
    )
    met = (r["redemptions_per_s"] >= 300 and not oversold and proof["sold_of_50"] == 50
           and lowest >= 0 and ledger_ok)
    print(f"targets: {'met' if met else 'MISSED'}")
    write_results("redeem", {"citizens": args.citizens, "workers": args.workers, **figures,
                             "proof": proof, "target_met": met})
    if oversold or lowest < 0 or not ledger_ok or proof["sold_of_50"] != 50:
        raise SystemExit("oversell or overdraw: see above")


if __name__ == "__main__":
    main()
