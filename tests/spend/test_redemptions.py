"""Citizens spend points on vouchers and donations: once per key, within stock, limits and balance."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from redemption.models import Redemption, Scenario, Voucher
from redemption.tasks import expire_vouchers

from .conftest import assert_error, client_for
from .factories import ScenarioFactory, give_points, points_of

pytestmark = pytest.mark.django_db


def redeem(client, scenario, key="k-1"):
    return client.post(
        "/api/v1/redemptions", {"scenario_id": scenario.pk}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def test_redeeming_spends_points_takes_stock_and_issues_a_voucher(make_citizen):
    citizen = make_citizen(points=500)
    scenario = ScenarioFactory(points_cost=300, stock=5)

    response = redeem(client_for(citizen), scenario)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["scenario_id"] == scenario.pk and body["points_spent"] == 300
    assert len(body["voucher"]["code"]) == 16 and body["voucher"]["qr_svg"].lstrip().startswith("<")
    assert body["voucher"]["expires_at"]
    assert points_of(citizen) == 200
    assert Scenario.objects.get(pk=scenario.pk).stock_left == 4
    [mine] = client_for(citizen).get("/api/v1/me/vouchers").json()["results"]
    assert mine["code"] == body["voucher"]["code"] and mine["state"] == "valid"


def test_a_retried_redemption_is_one_redemption(make_citizen):
    client = client_for(make_citizen(points=1000))
    scenario = ScenarioFactory(points_cost=100)

    first, again = redeem(client, scenario, "same"), redeem(client, scenario, "same")

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Redemption.objects.count() == 1
    assert Scenario.objects.get(pk=scenario.pk).stock_left == 9


def test_a_retry_answers_the_same_qr_without_drawing_it_again(make_citizen):
    from redemption.selectors import qr_svg

    client = client_for(make_citizen(points=1000))
    scenario = ScenarioFactory(points_cost=100)
    qr_svg.cache_clear()

    first, again = redeem(client, scenario, "qr"), redeem(client, scenario, "qr")

    assert first.json()["voucher"]["qr_svg"] == again.json()["voucher"]["qr_svg"]
    assert first.json()["voucher"]["qr_svg"].startswith("<svg")
    assert (qr_svg.cache_info().misses, qr_svg.cache_info().hits) == (1, 1)


def test_an_app_that_draws_the_qr_itself_asks_for_none_and_gets_the_code_alone(make_citizen):
    """``?qr=none`` is an opt-in: the default answer keeps ``qr_svg``; both are the same voucher."""
    from redemption.selectors import qr_svg

    client = client_for(make_citizen(points=1000))
    scenario = ScenarioFactory(points_cost=100)
    qr_svg.cache_clear()

    lean = client.post(
        "/api/v1/redemptions?qr=none",
        {"scenario_id": scenario.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="lean",
    )
    assert lean.status_code == 201, lean.content
    assert set(lean.json()["voucher"]) == {"code", "expires_at"}
    assert qr_svg.cache_info().misses == 0  # nothing drawn

    drawn = redeem(client, scenario, "lean")  # the same key, the default form: the same voucher
    assert drawn.json()["voucher"]["code"] == lean.json()["voucher"]["code"]
    assert drawn.json()["voucher"]["qr_svg"] == qr_svg(lean.json()["voucher"]["code"])
    assert {k: v for k, v in drawn.json().items() if k != "voucher"} == {
        k: v for k, v in lean.json().items() if k != "voucher"
    }
    odd = client.post(
        "/api/v1/redemptions?qr=png",
        {"scenario_id": scenario.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="odd",
    )
    assert_error(odd, 400, "invalid")
    assert Redemption.objects.filter(scenario=scenario).count() == 1


def test_the_same_key_for_another_scenario_is_refused(make_citizen):
    client = client_for(make_citizen(points=1000))
    redeem(client, ScenarioFactory())
    assert_error(redeem(client, ScenarioFactory()), 422, "idempotency_key_reused")


def test_keys_are_scoped_per_citizen(make_citizen):
    scenario = ScenarioFactory()
    a, b = client_for(make_citizen(points=100)), client_for(make_citizen(points=100))
    assert redeem(a, scenario, "k").json()["id"] != redeem(b, scenario, "k").json()["id"]


def test_a_redemption_needs_an_idempotency_key(citizen_client):
    response = citizen_client.post(
        "/api/v1/redemptions", {"scenario_id": ScenarioFactory().pk}, format="json"
    )
    assert_error(response, 400, "idempotency_key_required")


def test_not_enough_points_is_refused_and_nothing_moves(make_citizen):
    citizen = make_citizen(points=99)
    scenario = ScenarioFactory(points_cost=100)

    error = assert_error(redeem(client_for(citizen), scenario), 409, "insufficient_points")

    assert error["details"] == {"needed": 100, "available": 99}
    assert points_of(citizen) == 99 and Scenario.objects.get(pk=scenario.pk).stock_left == 10


def test_a_refusal_is_kept_as_the_first_answer_to_its_key(make_citizen):
    citizen = make_citizen(points=99)
    scenario = ScenarioFactory(points_cost=100)
    first = assert_error(redeem(client_for(citizen), scenario, "poor"), 409, "insufficient_points")
    give_points(citizen, 100)

    again = redeem(client_for(citizen), scenario, "poor")

    assert again.status_code == 409 and again.json()["error"] == first
    assert points_of(citizen) == 199 and Redemption.objects.count() == 0
    assert redeem(client_for(citizen), scenario, "rich").status_code == 201


def test_sold_out_is_refused(make_citizen):
    scenario = ScenarioFactory(stock=1)
    assert redeem(client_for(make_citizen(points=100)), scenario).status_code == 201
    citizen = make_citizen(points=100)
    assert_error(redeem(client_for(citizen), scenario), 409, "out_of_stock")
    assert points_of(citizen) == 100


def test_a_retry_after_the_stock_is_gone_still_gets_its_voucher(make_citizen):
    citizen = make_citizen(points=300)
    scenario = ScenarioFactory(points_cost=100, stock=1)
    first = redeem(client_for(citizen), scenario, "mine")

    again = redeem(
        client_for(citizen), scenario, "mine"
    )  # sold out now: refused before the key is looked at

    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert_error(redeem(client_for(citizen), scenario, "another"), 409, "out_of_stock")
    assert points_of(citizen) == 200 and Redemption.objects.count() == 1


def test_limits_per_citizen_in_total_and_per_day(make_citizen):
    client = client_for(make_citizen(points=1000))
    total = ScenarioFactory(per_citizen_limit=2)
    daily = ScenarioFactory(per_citizen_daily_limit=1)

    assert redeem(client, total, "a").status_code == 201
    assert redeem(client, total, "b").status_code == 201
    assert_error(redeem(client, total, "c"), 409, "limit_reached")
    assert redeem(client, daily, "d").status_code == 201
    error = assert_error(redeem(client, daily, "e"), 409, "limit_reached")
    assert error["details"]["period"] == "day"


def test_a_paused_or_future_scenario_cannot_be_redeemed(make_citizen):
    client = client_for(make_citizen(points=1000))
    assert_error(redeem(client, ScenarioFactory(status="paused"), "a"), 409, "scenario_unavailable")
    future = ScenarioFactory(valid_from=timezone.now() + timedelta(days=1))
    assert_error(redeem(client, future, "b"), 409, "scenario_unavailable")
    assert_error(redeem(client, ScenarioFactory.build(pk=999999), "c"), 404, "not_found")


def test_a_donation_gives_a_certificate_instead_of_a_voucher(make_citizen, client):
    citizen = make_citizen(points=100)
    scenario = ScenarioFactory(kind="donation", points_cost=40, title="Plant a tree")

    body = redeem(client_for(citizen), scenario).json()

    assert body["voucher"] is None and points_of(citizen) == 60
    page = client.get(body["certificate_url"], HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "Plant a tree" in page.content.decode()
    # with the reduction behind the points, by the conversion rule of the day (the catalogue's: 10 g a point)
    assert (
        "The reduction behind them: about 400 g CO2e (one point for 10 g of verified reduction)."
        in (page.content.decode())
    )


def test_an_expired_voucher_refunds_the_points_once(make_citizen):
    citizen = make_citizen(points=100)
    scenario = ScenarioFactory(points_cost=100, stock=3)
    redeem(client_for(citizen), scenario)
    Voucher.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert expire_vouchers() == 1
    assert expire_vouchers() == 0

    assert points_of(citizen) == 100
    assert Scenario.objects.get(pk=scenario.pk).stock_left == 3
    [mine] = client_for(citizen).get("/api/v1/me/vouchers").json()["results"]
    assert mine["state"] == "expired"
    call_command("ledger_check")


def test_cancelling_a_scenario_refunds_its_unconsumed_vouchers(
    make_citizen, manager_client, merchant, cashier_client, django_capture_on_commit_callbacks
):
    scenario = ScenarioFactory(merchant=merchant, points_cost=100)
    kept, refunded = make_citizen(points=100), make_citizen(points=100)
    code = redeem(client_for(kept), scenario).json()["voucher"]["code"]
    redeem(client_for(refunded), scenario)
    cashier_client.post(f"/api/v1/merchant/vouchers/{code}/consume")

    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(f"/api/v1/merchant/scenarios/{scenario.pk}/cancel")

    assert points_of(kept) == 0 and points_of(refunded) == 100
    call_command("ledger_check")


def test_the_redemption_service_itself_answers_a_retry_with_the_first_redemption(make_citizen):
    from redemption.services import redemption_create

    citizen = make_citizen(points=1_000)
    scenario = ScenarioFactory(points_cost=300, stock=10)

    first = redemption_create(
        citizen=citizen.carbon_account, scenario_id=scenario.pk, idempotency_key="again"
    )
    retry = redemption_create(
        citizen=citizen.carbon_account, scenario_id=scenario.pk, idempotency_key="again"
    )

    assert retry.pk == first.pk
    assert Redemption.objects.count() == 1
    assert Scenario.objects.get(pk=scenario.pk).stock_left == 9
    assert points_of(citizen) == 700


def test_a_merchants_points_are_the_sum_over_its_receiving_accounts(make_citizen):
    from carbonpoints.ledger.models import LedgerAccount
    from redemption.ledger_accounts import RECEIVING_SHARDS
    from redemption.selectors import merchant_points

    scenario = ScenarioFactory(points_cost=10, stock=100)
    citizens = [make_citizen(points=10) for _ in range(RECEIVING_SHARDS + 1)]

    for citizen in citizens:
        assert redeem(client_for(citizen), scenario).status_code == 201

    assert merchant_points(merchant_id=scenario.merchant_id) == 10 * len(citizens)
    receiving = LedgerAccount.objects.filter(
        owner_id=scenario.merchant_id, kind__startswith="merchant_points"
    )
    assert receiving.count() > 1  # citizens spread over the shards
    call_command("ledger_check")


@pytest.mark.postgres
def test_a_redemption_is_six_statements(make_citizen):
    """The scenario read once per process and 2 s (then from memory), the answer's claim, the
    ledger's two (the accounts by their key with the citizen's accrual row; then the lock, the
    transaction, its postings and the balances in one statement), one statement for the
    redemption, its voucher, the kept answer and the stock, and the transaction's BEGIN and
    COMMIT (signing in is not counted: the client is signed in already)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(make_citizen(points=1000))
    scenario = ScenarioFactory(points_cost=10, stock=50)
    assert (
        redeem(client, scenario, "first").status_code == 201
    )  # the stock gate is armed (with Redis)

    with CaptureQueriesContext(connection) as queries:
        assert redeem(client, scenario, "second").status_code == 201

    assert len(queries) == 6, "\n".join(q["sql"][:120] for q in queries.captured_queries)


@pytest.mark.parametrize("closed_by", ["pause", "merchant_suspended", "expired"])
def test_a_scenario_closed_after_it_was_read_refuses_at_once_and_writes_nothing(
    make_citizen, closed_by
):
    """The scenario read that a process keeps for a moment never sells what is closed since:
    the statement that takes the stock checks it again, and the refusal is the one a fresh read
    gives, kept under the key."""
    from redemption.models import Merchant
    from redemption.services import scenario_transition

    citizen = make_citizen(points=1000)
    client = client_for(citizen)
    scenario = ScenarioFactory(points_cost=10, stock=50)
    assert redeem(client, scenario, "before").status_code == 201  # the read is kept now

    if closed_by == "pause":
        scenario_transition(scenario=scenario, action="pause")
    elif closed_by == "merchant_suspended":
        Merchant.objects.filter(pk=scenario.merchant_id).update(status=Merchant.Status.SUSPENDED)
    else:
        Scenario.objects.filter(pk=scenario.pk).update(
            valid_until=timezone.now() - timedelta(seconds=1)
        )
    refused = redeem(client, scenario, "after")

    assert_error(refused, 409, "scenario_unavailable")
    assert redeem(client, scenario, "after").json() == refused.json()  # kept under the key
    assert Redemption.objects.filter(scenario=scenario).count() == 1
    assert Scenario.objects.get(pk=scenario.pk).stock_left == 49
    assert points_of(citizen) == 990
    call_command("ledger_check")


@pytest.mark.parametrize("kind", ["voucher", "donation"])
def test_the_plain_answer_of_a_sale_is_what_its_declared_fields_write(make_citizen, kind):
    from rest_framework.serializers import Serializer

    from redemption.api.serializers import RedemptionSerializer

    citizen = make_citizen(points=1000)
    response = redeem(client_for(citizen), ScenarioFactory(kind=kind, points_cost=10))
    assert response.status_code == 201, response.content
    redemption = Redemption.objects.select_related("scenario", "voucher").get()
    serializer = RedemptionSerializer()
    assert serializer.plain(redemption) == Serializer.to_representation(serializer, redemption)
    body = response.json()
    if body["voucher"]:
        body["voucher"].pop("qr_svg")
    assert serializer.plain(redemption) == body
