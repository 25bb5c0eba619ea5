"""The stock gate in Redis: once a scenario's stock is gone, sold out is answered without the
database; PostgreSQL stays the truth, so a flushed Redis sells exactly the stock still."""

import logging
from collections import Counter

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carbonpoints.ledger.models import LedgerAccount
from redemption.models import IdempotentAnswer, Redemption, Scenario
from redemption.services import stock_gate_reconcile
from redemption.services.stock_gate import _left_key, _mark_key
from redemption.tasks import reconcile_stock_gates
from tests.concurrency import run_at_once

from .conftest import assert_error, client_for
from .factories import ScenarioFactory, points_of

pytestmark = pytest.mark.redis


@pytest.fixture(autouse=True)
def _gate_on(settings):
    settings.REDEMPTION_STOCK_GATE = True


def gate() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def left(scenario) -> int | None:
    value = gate().get(_left_key(scenario.pk))
    return None if value is None else int(value)


def redeem(client, scenario, key):
    return client.post(
        "/api/v1/redemptions", {"scenario_id": scenario.pk}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


@pytest.mark.django_db
def test_once_the_stock_is_gone_sold_out_comes_from_redis_alone(make_citizen):
    scenario = ScenarioFactory(points_cost=10, stock=2)
    for n in range(2):
        assert redeem(client_for(make_citizen(points=100)), scenario, f"k{n}").status_code == 201
    late = client_for(make_citizen(points=100))

    with CaptureQueriesContext(connection) as queries:
        assert_error(redeem(late, scenario, "late"), 409, "out_of_stock")

    assert [q["sql"] for q in queries.captured_queries] == []
    assert not IdempotentAnswer.objects.filter(key="late").exists()  # nothing written for it
    assert left(scenario) == 0 and Redemption.objects.count() == 2


@pytest.mark.django_db
def test_the_portal_wallet_stands_behind_the_same_gate(make_citizen, client):
    scenario = ScenarioFactory(title="Tote bag", points_cost=10, stock=1)
    assert redeem(client_for(make_citizen(points=100)), scenario, "app").status_code == 201
    client.force_login(make_citizen(points=100))

    page = client.post(
        "/me/wallet/redeem",
        {"scenario_id": scenario.pk, "idempotency_key": "form-late"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()

    assert 'class="error"' in page and "Redeemed" not in page
    assert not IdempotentAnswer.objects.filter(key="form-late").exists()  # Redis answered alone
    assert left(scenario) == 0 and Redemption.objects.count() == 1


@pytest.mark.django_db
def test_an_attempt_refused_by_the_database_gives_its_unit_back(make_citizen):
    scenario = ScenarioFactory(points_cost=100, stock=1)
    assert_error(
        redeem(client_for(make_citizen(points=99)), scenario, "poor"), 409, "insufficient_points"
    )
    assert left(scenario) == 1

    assert redeem(client_for(make_citizen(points=100)), scenario, "rich").status_code == 201
    assert left(scenario) == 0


@pytest.mark.django_db
def test_a_retry_of_a_sold_key_gets_its_voucher_after_sold_out_and_after_a_redis_loss(make_citizen):
    scenario = ScenarioFactory(points_cost=10, stock=1)
    buyer = client_for(make_citizen(points=100))
    first = redeem(buyer, scenario, "mine").json()
    late = client_for(make_citizen(points=100))
    assert_error(redeem(late, scenario, "late"), 409, "out_of_stock")

    gate().flushdb()
    assert reconcile_stock_gates() >= 1  # beat's task re-derives the gate from the database

    again = redeem(buyer, scenario, "mine")
    assert again.status_code == 201 and again.json()["id"] == first["id"]
    with CaptureQueriesContext(connection) as queries:
        assert_error(redeem(late, scenario, "late-2"), 409, "out_of_stock")
    assert len(queries) == 0
    assert Redemption.objects.count() == 1


@pytest.mark.django_db
def test_a_flushed_gate_is_armed_again_by_the_next_attempt(make_citizen):
    scenario = ScenarioFactory(points_cost=10, stock=3)
    assert redeem(client_for(make_citizen(points=100)), scenario, "a").status_code == 201
    gate().flushdb()

    assert redeem(client_for(make_citizen(points=100)), scenario, "b").status_code == 201

    assert left(scenario) == 1  # armed from the database (stock_left 2), then one unit taken
    assert Scenario.objects.get(pk=scenario.pk).stock_left == 1


@pytest.mark.django_db
def test_a_refunded_voucher_gives_its_unit_back_to_the_gate(
    make_citizen, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from redemption.models import Voucher
    from redemption.tasks import expire_vouchers

    scenario = ScenarioFactory(points_cost=10, stock=1)
    assert redeem(client_for(make_citizen(points=100)), scenario, "a").status_code == 201
    assert left(scenario) == 0
    Voucher.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert expire_vouchers() == 1

    assert left(scenario) == 1
    assert redeem(client_for(make_citizen(points=100)), scenario, "b").status_code == 201


@pytest.mark.django_db
def test_reconciliation_arms_open_scenarios_and_unarms_closed_ones(make_citizen):
    live = ScenarioFactory(stock=5, stock_left=4)
    paused = ScenarioFactory(stock=5, status=Scenario.Status.PAUSED)
    unlimited = ScenarioFactory(stock=None)
    gate().set(_left_key(paused.pk), 5)

    stock_gate_reconcile()

    assert left(live) == 4 and left(paused) is None and left(unlimited) is None


@pytest.mark.django_db
def test_without_the_gate_the_database_answers_sold_out(make_citizen, settings):
    settings.REDEMPTION_STOCK_GATE = False
    scenario = ScenarioFactory(points_cost=10, stock=1)
    assert redeem(client_for(make_citizen(points=100)), scenario, "a").status_code == 201
    late = client_for(make_citizen(points=100))

    with CaptureQueriesContext(connection) as queries:
        assert_error(redeem(late, scenario, "late"), 409, "out_of_stock")

    assert len(queries) > 0 and left(scenario) is None
    assert IdempotentAnswer.objects.get(key="late").status_code == 409  # kept, as without Redis


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_redis_flushed_mid_sale_still_sells_exactly_the_stock(make_citizen):
    scenario = ScenarioFactory(points_cost=100, stock=50)
    citizens = [make_citizen(points=150) for _ in range(150)]  # one redemption each, not two
    clients = [client_for(c) for c in citizens]

    def attempt(n):
        if n == 60:
            gate().flushdb()  # Redis lost mid-sale: the gate is armed again from the database
        response = redeem(clients[n % 150], scenario, f"flash-{n}")
        return response.status_code, response.json()

    outcomes = run_at_once(200, attempt)

    statuses = Counter(status for status, _ in outcomes)
    assert statuses[201] == 50, statuses
    codes = Counter(body["error"]["code"] for status, body in outcomes if status != 201)
    assert set(codes) <= {"out_of_stock", "insufficient_points"}, codes
    assert Scenario.objects.get(pk=scenario.pk).stock_left == 0
    assert Redemption.objects.filter(scenario=scenario).count() == 50
    assert sum(150 - points_of(c) for c in citizens) == 50 * 100
    assert not LedgerAccount.objects.filter(balance__lt=0, allow_negative=False).exists()

    gate().flushdb()
    stock_gate_reconcile()
    assert left(scenario) == 0
    buyers = set(Redemption.objects.filter(scenario=scenario).values_list("citizen_id", flat=True))
    assert all(gate().exists(_mark_key(scenario.pk, pk)) for pk in buyers)


@pytest.mark.django_db
def test_an_expected_409_is_not_logged_as_a_warning(make_citizen, caplog):
    requests = logging.getLogger("django.request")
    requests.addHandler(caplog.handler)  # django.request does not propagate to the root logger
    try:
        scenario = ScenarioFactory(points_cost=10, stock=1)
        assert redeem(client_for(make_citizen(points=100)), scenario, "a").status_code == 201
        client = client_for(make_citizen(points=5))
        with caplog.at_level(logging.WARNING, logger="django.request"):
            assert_error(redeem(client, scenario, "late"), 409, "out_of_stock")
            assert_error(
                redeem(client, ScenarioFactory(points_cost=10), "poor"), 409, "insufficient_points"
            )
            assert client.get("/api/v1/no-such-thing").status_code == 404
    finally:
        requests.removeHandler(caplog.handler)

    logged = [
        (r.levelname, getattr(r, "status_code", None))
        for r in caplog.records
        if r.name == "django.request"
    ]
    assert logged == [("WARNING", 404)]  # other 4xx answers are still logged


@pytest.mark.django_db
def test_a_redis_shared_with_another_database_never_refuses_with_its_count(make_citizen):
    """Scenario ids are unique within one database: another database's sold-out scenario of the
    same id (a second deployment, a benchmark) must not answer this one's sale."""
    scenario = ScenarioFactory(points_cost=10, stock=5)
    other = f"stockgate:another-database:{scenario.pk}:left"
    gate().set(other, 0)
    try:
        assert redeem(client_for(make_citizen(points=100)), scenario, "k").status_code == 201
    finally:
        gate().delete(other)
    assert left(scenario) == 4
