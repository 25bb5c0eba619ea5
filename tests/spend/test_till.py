"""At the till: vouchers are consumed once, only by their merchant; points pay part of an order."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from redemption.models import Checkout, PaymentCode

from .conftest import assert_error, client_for
from .factories import CashierFactory, PointsOffsetScenarioFactory, ScenarioFactory, points_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def voucher_code(make_citizen, merchant):
    scenario = ScenarioFactory(merchant=merchant, points_cost=100)
    response = client_for(make_citizen(points=100)).post(
        "/api/v1/redemptions", {"scenario_id": scenario.pk}, format="json", HTTP_IDEMPOTENCY_KEY="v"
    )
    return response.json()["voucher"]["code"]


def consume(client, code):
    return client.post(f"/api/v1/merchant/vouchers/{code}/consume")


def test_a_cashier_consumes_a_voucher_once(cashier_client, voucher_code):
    first = consume(cashier_client, voucher_code)
    assert first.status_code == 200 and first.json()["state"] == "consumed"
    error = assert_error(consume(cashier_client, voucher_code), 409, "voucher_already_consumed")
    assert error["details"]["consumed_at"]


def test_a_typed_code_may_differ_in_case_and_dashes(cashier_client, voucher_code):
    typed = "-".join([voucher_code[:4].lower(), voucher_code[4:]])
    assert consume(cashier_client, typed).status_code == 200


def test_a_cashier_of_merchant_a_cannot_touch_merchant_b(voucher_code, merchant):
    other_cashier = client_for(CashierFactory().user)
    assert_error(consume(other_cashier, voucher_code), 404, "not_found")
    own = client_for(CashierFactory(merchant=merchant).user)
    assert consume(own, voucher_code).status_code == 200


def test_an_expired_voucher_cannot_be_consumed(cashier_client, voucher_code):
    from redemption.models import Voucher

    Voucher.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert_error(consume(cashier_client, voucher_code), 409, "voucher_expired")


def test_citizens_cannot_use_the_merchant_api(citizen_client, voucher_code):
    assert_error(consume(citizen_client, voucher_code), 403, "not_merchant_staff")


def payment_code(citizen):
    response = client_for(citizen).post("/api/v1/me/payment-codes")
    assert response.status_code == 201
    body = response.json()
    assert body["qr_svg"].lstrip().startswith("<") and body["expires_at"]
    return body["code"]


def checkout(client, code, amount_fen, points, **extra):
    return client.post(
        "/api/v1/merchant/checkouts",
        {"payment_code": code, "amount_fen": amount_fen, "points": points},
        format="json",
        **extra,
    )


def test_points_pay_part_of_an_order_within_the_share(cashier_client, merchant, make_citizen):
    PointsOffsetScenarioFactory(merchant=merchant, points_per_yuan=100, max_share_bp=3000)
    citizen = make_citizen(points=5000)

    response = checkout(cashier_client, payment_code(citizen), amount_fen=10_000, points=5000)

    assert response.status_code == 201, response.content
    body = response.json()
    # 30% of ¥100 is ¥30 = 3000 fen = 3000 points at 100 points per yuan
    assert (
        body["points_used"] == 3000
        and body["discount_fen"] == 3000
        and body["amount_due_fen"] == 7000
    )
    assert points_of(citizen) == 2000


def test_a_payment_code_is_single_use_and_short_lived(cashier_client, merchant, make_citizen):
    PointsOffsetScenarioFactory(merchant=merchant)
    citizen = make_citizen(points=1000)
    code = payment_code(citizen)
    assert checkout(cashier_client, code, 1000, 100).status_code == 201
    assert_error(checkout(cashier_client, code, 1000, 100), 409, "payment_code_invalid")

    late = payment_code(citizen)
    PaymentCode.objects.filter(code=late).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(checkout(cashier_client, late, 1000, 100), 409, "payment_code_invalid")


def test_no_payment_code_is_issued_without_points(make_citizen):
    response = client_for(make_citizen(points=0)).post("/api/v1/me/payment-codes")
    assert_error(response, 409, "insufficient_points")
    assert not PaymentCode.objects.exists()


def test_a_checkout_with_too_few_points_is_refused_and_keeps_the_code(
    cashier_client, merchant, make_citizen
):
    PointsOffsetScenarioFactory(merchant=merchant)
    citizen = make_citizen(points=10)
    code = payment_code(citizen)
    assert_error(checkout(cashier_client, code, 10_000, 50), 409, "insufficient_points")
    assert checkout(cashier_client, code, 10_000, 10).status_code == 201
    assert points_of(citizen) == 0


def test_a_limit_per_citizen_holds_at_the_till_and_a_refusal_keeps_the_code(
    cashier_client, merchant, make_citizen
):
    PointsOffsetScenarioFactory(merchant=merchant, per_citizen_limit=1)
    citizen = make_citizen(points=1000)
    assert checkout(cashier_client, payment_code(citizen), 1000, 100).status_code == 201
    code = payment_code(citizen)

    error = assert_error(checkout(cashier_client, code, 1000, 100), 409, "limit_reached")

    assert error["details"] == {"limit": 1, "period": "total"}
    assert PaymentCode.objects.get(code=code).used_at is None
    assert Checkout.objects.count() == 1


def test_without_a_points_offset_scenario_the_till_refuses(cashier_client, make_citizen):
    citizen = make_citizen(points=10)
    assert_error(
        checkout(cashier_client, payment_code(citizen), 1000, 10), 409, "scenario_unavailable"
    )


def test_a_checkout_is_reversed_once_within_the_window(
    cashier_client, merchant, make_citizen, settings
):
    PointsOffsetScenarioFactory(merchant=merchant)
    citizen = make_citizen(points=1000)
    made = checkout(cashier_client, payment_code(citizen), 10_000, 500).json()

    reversed_ = cashier_client.post(f"/api/v1/merchant/checkouts/{made['id']}/reverse")
    assert reversed_.status_code == 200 and reversed_.json()["status"] == "reversed"
    assert points_of(citizen) == 1000
    assert_error(
        cashier_client.post(f"/api/v1/merchant/checkouts/{made['id']}/reverse"),
        409,
        "checkout_already_reversed",
    )

    late = checkout(cashier_client, payment_code(citizen), 10_000, 500).json()
    Checkout.objects.filter(pk=late["id"]).update(created_at=timezone.now() - timedelta(hours=2))
    assert_error(
        cashier_client.post(f"/api/v1/merchant/checkouts/{late['id']}/reverse"),
        409,
        "reversal_window_closed",
    )
    other = client_for(CashierFactory().user)
    assert_error(other.post(f"/api/v1/merchant/checkouts/{late['id']}/reverse"), 404, "not_found")
    call_command("ledger_check")


def test_a_retried_checkout_with_a_key_is_one_checkout(cashier_client, merchant, make_citizen):
    PointsOffsetScenarioFactory(merchant=merchant)
    citizen = make_citizen(points=1000)
    code = payment_code(citizen)
    first = checkout(cashier_client, code, 10_000, 100, HTTP_IDEMPOTENCY_KEY="till-1")
    again = checkout(cashier_client, code, 10_000, 100, HTTP_IDEMPOTENCY_KEY="till-1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert points_of(citizen) == 900


def test_a_manager_adds_a_cashier_who_can_sign_in(manager_client, cashier_client, client):
    response = manager_client.post(
        "/api/v1/merchant/staff", {"email": "Till2@Shop.cn"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["role"] == "cashier"
    assert client.login(email="till2@shop.cn", password=response.json()["password"])
    assert_error(
        cashier_client.post("/api/v1/merchant/staff", {"email": "x@shop.cn"}, format="json"),
        403,
        "manager_only",
    )


def test_a_refunded_voucher_cannot_be_consumed(
    cashier_client, voucher_code, manager_client, merchant, django_capture_on_commit_callbacks
):
    from redemption.models import Scenario

    scenario = Scenario.objects.get(merchant=merchant)
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(f"/api/v1/merchant/scenarios/{scenario.pk}/cancel")
    assert_error(consume(cashier_client, voucher_code), 409, "voucher_refunded")


def test_a_cashier_looks_a_voucher_up_before_consuming(cashier_client, voucher_code):
    before = cashier_client.get(f"/api/v1/merchant/vouchers/{voucher_code}")
    assert before.status_code == 200 and before.json()["state"] == "valid"
    consume(cashier_client, voucher_code)
    assert (
        cashier_client.get(f"/api/v1/merchant/vouchers/{voucher_code}").json()["state"]
        == "consumed"
    )
    other = client_for(CashierFactory().user)
    assert_error(other.get(f"/api/v1/merchant/vouchers/{voucher_code}"), 404, "not_found")
