"""Many requests at once against PostgreSQL: no oversold stock, no overdraft, limits and keys hold.

Each thread has its own database connection; see ``tests.concurrency.run_at_once``.
"""

from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection

from carbonpoints.ledger.models import LedgerAccount
from redemption.models import Redemption, Scenario, UnitBlock
from redemption.selectors import units_overlap
from tests.concurrency import run_at_once
from tests.factories import CitizenFactory

from .conftest import client_for
from .factories import ScenarioFactory, StaffFactory, fill_pool, give_points, points_of

pytestmark = [pytest.mark.django_db(transaction=True)]


def redeem(client, scenario, key):
    response = client.post(
        "/api/v1/redemptions", {"scenario_id": scenario.pk}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    return response.status_code, response.json()


def test_two_hundred_redemptions_of_fifty_in_stock_sell_exactly_fifty():
    scenario = ScenarioFactory(points_cost=100, stock=50)
    citizens = [CitizenFactory() for _ in range(100)]
    for citizen in citizens:
        give_points(citizen, 150)  # enough for one redemption, not two
    clients = [client_for(citizen) for citizen in citizens]

    outcomes = run_at_once(200, lambda n: redeem(clients[n % 100], scenario, f"key-{n}"))

    statuses = Counter(status for status, _ in outcomes)
    assert statuses[201] == 50, statuses
    codes = Counter(body["error"]["code"] for status, body in outcomes if status != 201)
    assert set(codes) <= {"out_of_stock", "insufficient_points"} and sum(codes.values()) == 150
    assert Scenario.objects.get(pk=scenario.pk).stock_left == 0
    assert Redemption.objects.count() == 50
    assert all(points_of(c) in (50, 150) for c in citizens)
    assert sum(150 - points_of(c) for c in citizens) == 50 * 100
    assert not LedgerAccount.objects.filter(balance__lt=0, allow_negative=False).exists()
    call_command("ledger_check")


def test_concurrent_retries_of_one_key_redeem_once():
    scenario = ScenarioFactory(points_cost=10, stock=50)
    citizen = CitizenFactory()
    give_points(citizen, 1000)
    client = client_for(citizen)

    outcomes = run_at_once(12, lambda n: redeem(client, scenario, "one-key"))

    assert {status for status, _ in outcomes} == {201}
    assert len({body["id"] for _, body in outcomes}) == 1
    assert points_of(citizen) == 990


def test_the_per_citizen_limit_holds_under_concurrency():
    scenario = ScenarioFactory(points_cost=10, stock=100, per_citizen_limit=3)
    citizen = CitizenFactory()
    give_points(citizen, 1000)
    client = client_for(citizen)

    outcomes = run_at_once(20, lambda n: redeem(client, scenario, f"k{n}"))

    assert Counter(status for status, _ in outcomes) == {201: 3, 409: 17}
    assert points_of(citizen) == 970


def test_one_citizen_redeeming_at_once_without_a_limit_never_overdraws():
    scenario = ScenarioFactory(points_cost=10, stock=100)
    citizen = CitizenFactory()
    give_points(citizen, 55)  # five redemptions, not six
    client = client_for(citizen)

    outcomes = run_at_once(12, lambda n: redeem(client, scenario, f"k{n}"))

    assert Counter(status for status, _ in outcomes) == {201: 5, 409: 7}
    assert {body["error"]["code"] for status, body in outcomes if status == 409} == {
        "insufficient_points"
    }
    assert points_of(citizen) == 5
    assert Scenario.objects.get(pk=scenario.pk).stock_left == 95
    call_command("ledger_check")


def test_concurrent_retirements_never_overdraw_the_pool_or_retire_a_unit_twice():
    fill_pool("metro", 2026, 9, 600)
    fill_pool("bus", 2026, 10, 400)
    managers = [StaffFactory() for _ in range(4)]
    clients = [client_for(m.user) for m in managers]

    def retire(n):
        response = clients[n % 4].post(
            "/api/v1/merchant/offsets", {"grams": 75, "purpose": "test"}, format="json"
        )
        return response.status_code

    outcomes = Counter(run_at_once(20, retire))

    assert outcomes == {201: 13, 409: 7}  # 13 × 75 = 975 ≤ 1000 < 14 × 75
    assert not units_overlap()
    retired = sum(b.grams for b in UnitBlock.objects.filter(certificate__isnull=False))
    assert retired == 975
    pools = LedgerAccount.objects.filter(kind__startswith="pool_")
    assert sum(p.balance for p in pools) == 25
    call_command("ledger_check")


def test_a_voucher_consumed_at_many_tills_at_once_is_consumed_once():
    manager = StaffFactory()
    scenario = ScenarioFactory(merchant=manager.merchant, points_cost=10)
    citizen = CitizenFactory()
    give_points(citizen, 10)
    code = redeem(client_for(citizen), scenario, "v")[1]["voucher"]["code"]
    till = client_for(manager.user)

    outcomes = run_at_once(
        10, lambda n: till.post(f"/api/v1/merchant/vouchers/{code}/consume").status_code
    )

    assert Counter(outcomes) == {200: 1, 409: 9}


def test_one_payment_code_pays_once_however_many_tills_scan_it():
    from .factories import PointsOffsetScenarioFactory

    manager = StaffFactory()
    PointsOffsetScenarioFactory(merchant=manager.merchant)
    citizen = CitizenFactory()
    give_points(citizen, 1000)
    pay = client_for(citizen).post("/api/v1/me/payment-codes").json()["code"]
    till = client_for(manager.user)

    def checkout(n):
        return till.post(
            "/api/v1/merchant/checkouts",
            {"payment_code": pay, "amount_fen": 10_000, "points": 100},
            format="json",
        ).status_code

    assert Counter(run_at_once(10, checkout)) == {201: 1, 409: 9}
    assert points_of(citizen) == 900
    call_command("ledger_check")


def _once_the_points_are_reserved(monkeypatch, change) -> None:
    """The next redemption reserves its points, then ``change`` runs and commits on another
    connection, before the redemption's sale statement."""
    import threading

    from redemption.services import redemptions

    reserve = redemptions._spend

    def reserve_then_change(**kwargs):
        spent = reserve(**kwargs)
        other = threading.Thread(target=lambda: (change(), connection.close()))
        other.start()
        other.join()
        return spent

    monkeypatch.setattr(redemptions, "_spend", reserve_then_change)


def test_stock_gone_after_the_points_were_reserved_spends_nothing(monkeypatch):
    """The stock is taken last: another buyer takes the last unit while this citizen's points
    are reserved, so the attempt is refused whole, and its refusal stays the key's answer."""
    from carbonpoints.ledger.models import LedgerTransaction

    scenario = ScenarioFactory(points_cost=100, stock=1)
    citizen = CitizenFactory()
    give_points(citizen, 150)
    # another buyer, on another connection, commits the last unit meanwhile
    _once_the_points_are_reserved(
        monkeypatch, lambda: Scenario.objects.filter(pk=scenario.pk).update(stock_left=0)
    )
    status, body = redeem(client_for(citizen), scenario, "last-one")
    monkeypatch.undo()

    assert status == 409 and body["error"]["code"] == "out_of_stock"
    assert points_of(citizen) == 150
    assert not Redemption.objects.exists()
    assert not LedgerTransaction.objects.filter(kind="redemption").exists()
    assert Scenario.objects.get(pk=scenario.pk).stock_left == 0
    Scenario.objects.filter(pk=scenario.pk).update(
        stock_left=1
    )  # restocked: the key still answers 409
    assert redeem(client_for(citizen), scenario, "last-one") == (status, body)
    assert Scenario.objects.get(pk=scenario.pk).stock_left == 1 and points_of(citizen) == 150
    call_command("ledger_check")


def test_redemptions_and_expiry_refunds_at_once_never_deadlock_and_the_stock_adds_up():
    """Both take the ledger accounts first and the scenario's stock row last (the same lock
    order), so refunds returning stock while a sale runs neither deadlock nor lose a unit."""
    from datetime import timedelta

    from django.utils import timezone

    from redemption.models import Voucher
    from redemption.services import voucher_expire

    scenario = ScenarioFactory(points_cost=10, stock=20)
    earlier = [CitizenFactory() for _ in range(6)]
    for citizen in earlier:
        give_points(citizen, 10)
        assert redeem(client_for(citizen), scenario, "earlier")[0] == 201
    Voucher.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    vouchers = list(Voucher.objects.values_list("pk", flat=True))
    buyers = [CitizenFactory() for _ in range(20)]
    for citizen in buyers:
        give_points(citizen, 10)
    clients = [client_for(citizen) for citizen in buyers]

    def work(n):
        if n < len(vouchers):
            return "refunded" if voucher_expire(voucher_id=vouchers[n]) else "not refunded"
        status, body = redeem(clients[n - len(vouchers)], scenario, f"k{n}")
        return status if status == 201 else body["error"]["code"]

    outcomes = Counter(run_at_once(len(vouchers) + len(buyers), work))

    assert outcomes["refunded"] == 6
    assert outcomes[201] + outcomes["out_of_stock"] == 20 and outcomes[201] >= 14, outcomes
    kept = (
        Redemption.objects.filter(scenario=scenario)
        .exclude(status=Redemption.Status.REFUNDED)
        .count()
    )
    assert kept == outcomes[201] and Scenario.objects.get(pk=scenario.pk).stock_left == 20 - kept
    assert all(points_of(c) == 10 for c in earlier)
    assert sum(10 - points_of(c) for c in buyers) == 10 * outcomes[201]
    call_command("ledger_check")


def test_a_sale_carries_its_own_commit_and_what_waits_for_the_commit_still_runs():
    """Outside any caller's transaction, the sale's statement ends with its COMMIT (one round
    trip: the hot stock row is not held while the worker gets the CPU back); the sale is
    committed whole, and the on-commit work (the read caches' renewal) runs after it."""
    from django.test.utils import CaptureQueriesContext

    scenario = ScenarioFactory(points_cost=10, stock=5)
    citizen = CitizenFactory()
    give_points(citizen, 100)
    client = client_for(citizen)
    assert client.get("/api/v1/me/account").json()["points"]["available"] == 100  # cached now

    with CaptureQueriesContext(connection) as queries:
        status, body = redeem(client, scenario, "with-commit")

    assert status == 201 and body["voucher"]["code"]
    sale = [q["sql"] for q in queries.captured_queries if "stock_left - 1" in q["sql"]]
    assert len(sale) == 1 and sale[0].rstrip().endswith("COMMIT")
    assert not connection.in_atomic_block
    assert Redemption.objects.filter(pk=body["id"], voucher__isnull=False).count() == 1
    assert Scenario.objects.get(pk=scenario.pk).stock_left == 4 and points_of(citizen) == 90
    assert (
        client.get("/api/v1/me/account").json()["points"]["available"] == 90
    )  # the cache was renewed
    assert redeem(client, scenario, "with-commit") == (status, body)  # the kept answer
    call_command("ledger_check")


def test_a_scenario_paused_while_the_points_were_reserved_refuses_as_paused_and_spends_nothing(
    monkeypatch,
):
    """The sale's statement (with its COMMIT) finds the scenario closed: it fails, nothing is
    committed, and after the rollback the scenario is read again for the refusal it gives."""
    from carbonpoints.ledger.models import LedgerTransaction

    scenario = ScenarioFactory(points_cost=100, stock=3)
    citizen = CitizenFactory()
    give_points(citizen, 150)
    _once_the_points_are_reserved(
        monkeypatch,
        lambda: Scenario.objects.filter(pk=scenario.pk).update(status=Scenario.Status.PAUSED),
    )
    status, body = redeem(client_for(citizen), scenario, "paused")
    monkeypatch.undo()

    assert status == 409 and body["error"]["code"] == "scenario_unavailable", body
    assert points_of(citizen) == 150 and not Redemption.objects.exists()
    assert not LedgerTransaction.objects.filter(kind="redemption").exists()
    assert Scenario.objects.get(pk=scenario.pk).stock_left == 3
    assert redeem(client_for(citizen), scenario, "paused") == (status, body)
    call_command("ledger_check")
