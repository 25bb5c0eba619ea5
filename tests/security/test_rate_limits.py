"""Every rate limit: sign-in (portal and app), payment codes, wrong voucher and payment codes per
staff member and per merchant (API and console), and the partner feed. Counted in Redis."""

from __future__ import annotations

import pytest
from rest_framework.throttling import SimpleRateThrottle

from tests.earn.conftest import PartnerClient
from tests.earn.factories import partner_with_key
from tests.factories import CitizenFactory
from tests.spend.conftest import assert_error, client_for
from tests.spend.factories import (
    CashierFactory,
    PointsOffsetScenarioFactory,
    ScenarioFactory,
    give_points,
)

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


def assert_throttled(response) -> dict:
    error = assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
    assert 1 <= error["details"]["retry_after_s"] <= 61
    return error


@pytest.fixture
def rates(monkeypatch):
    """Set a few rates for one test (DRF's throttles read the rates dict they were built with)."""

    def set_rates(**rates: str) -> None:
        for scope, rate in rates.items():
            monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, rate)

    return set_rates


@pytest.fixture
def voucher_code(make_citizen, merchant):
    scenario = ScenarioFactory(merchant=merchant, points_cost=100)
    response = client_for(make_citizen(points=100)).post(
        "/api/v1/redemptions", {"scenario_id": scenario.pk}, format="json", HTTP_IDEMPOTENCY_KEY="v"
    )
    return response.json()["voucher"]["code"]


# --- wrong voucher codes -----------------------------------------------------------------------


def test_ten_wrong_voucher_codes_in_a_row_throttle_the_cashier(
    cashier_client, voucher_code, merchant
):
    for i in range(10):
        assert_error(
            cashier_client.get(f"/api/v1/merchant/vouchers/WRONG{i:04d}"), 404, "not_found"
        )
    assert_throttled(cashier_client.get("/api/v1/merchant/vouchers/WRONG9999"))
    # the right code is refused as well until the minute is over: a guesser learns nothing
    assert_throttled(cashier_client.post(f"/api/v1/merchant/vouchers/{voucher_code}/consume"))
    # another cashier of the merchant still works (the merchant's own limit is higher)
    other = client_for(CashierFactory(merchant=merchant).user)
    assert other.post(f"/api/v1/merchant/vouchers/{voucher_code}/consume").status_code == 200


def test_right_codes_do_not_count(cashier_client, voucher_code):
    for _ in range(15):
        assert cashier_client.get(f"/api/v1/merchant/vouchers/{voucher_code}").status_code == 200
    assert (
        cashier_client.post(f"/api/v1/merchant/vouchers/{voucher_code}/consume").status_code == 200
    )
    assert_error(
        cashier_client.post(f"/api/v1/merchant/vouchers/{voucher_code}/consume"),
        409,
        "voucher_already_consumed",
    )


def test_wrong_codes_from_all_tills_count_per_merchant(rates, merchant):
    rates(wrong_code_merchant="4/min")
    tills = [client_for(CashierFactory(merchant=merchant).user) for _ in range(3)]
    for i in range(4):
        assert_error(
            tills[i % 2].post(f"/api/v1/merchant/vouchers/NOPE{i}/consume"), 404, "not_found"
        )
    assert_throttled(tills[2].get("/api/v1/merchant/vouchers/NOPE9"))
    # another merchant is not affected
    assert_error(
        client_for(CashierFactory().user).get("/api/v1/merchant/vouchers/NOPE9"), 404, "not_found"
    )


def test_wrong_codes_at_the_console_are_throttled_too(client, cashier, voucher_code):
    client.force_login(cashier.user)
    for i in range(10):
        client.post("/merchant/vouchers/consume", {"code": f"WRONG{i:04d}"})
    page = client.post("/merchant/vouchers/consume", {"code": voucher_code}, follow=True)
    assert "Too many wrong codes" in page.content.decode()
    from redemption.models import Voucher

    assert Voucher.objects.get().consumed_at is None


# --- payment codes -----------------------------------------------------------------------------


def test_wrong_payment_codes_throttle_the_checkout(cashier_client, merchant, make_citizen):
    PointsOffsetScenarioFactory(merchant=merchant)
    for i in range(10):
        response = cashier_client.post(
            "/api/v1/merchant/checkouts",
            {"payment_code": f"{i:018d}", "amount_fen": 1000, "points": 100},
            format="json",
        )
        assert_error(response, 409, "payment_code_invalid")
    assert_throttled(
        cashier_client.post(
            "/api/v1/merchant/checkouts",
            {"payment_code": "1" * 18, "amount_fen": 1000, "points": 100},
            format="json",
        )
    )


def test_a_citizen_may_issue_ten_payment_codes_a_minute():
    user = CitizenFactory()
    give_points(user, 100)  # a code needs points to pay with
    citizen = client_for(user)
    for _ in range(10):
        assert citizen.post("/api/v1/me/payment-codes").status_code == 201
    assert_throttled(citizen.post("/api/v1/me/payment-codes"))


# --- partner feed ------------------------------------------------------------------------------


def test_each_partner_has_its_own_rate(rates, django_capture_on_commit_callbacks):
    rates(partner="3/min")
    metro = PartnerClient(
        partner_with_key(name="Metro", actions=["metro_ride"]), django_capture_on_commit_callbacks
    )
    bikes = PartnerClient(
        partner_with_key(name="Bikes", actions=["bike_ride"]), django_capture_on_commit_callbacks
    )
    missing = "/api/v1/partner/events/nothing-here"
    for _ in range(3):
        assert_error(metro.get(missing), 404, "not_found")
    assert_throttled(metro.get(missing))
    assert_error(bikes.get(missing), 404, "not_found")


# --- sign-in -----------------------------------------------------------------------------------

PASSWORD = "correct-horse-battery"


def test_the_app_api_refuses_sign_in_after_five_failures_for_one_email(api_client):
    user = CitizenFactory(email="wang.fang@example.cn")
    login = "/_allauth/app/v1/auth/login"
    for _ in range(5):
        wrong = api_client.post(
            login, {"email": user.email, "password": "wrong-password"}, format="json"
        )
        assert wrong.status_code == 400
    # even the right password: allauth's headless API answers 400 with its own error code
    refused = api_client.post(login, {"email": user.email, "password": PASSWORD}, format="json")
    assert refused.status_code == 400
    assert [e["code"] for e in refused.json()["errors"]] == ["too_many_login_attempts"]
    assert "meta" not in refused.json() or "session_token" not in refused.json()["meta"]
    # another e-mail from the same address may still sign in
    other = CitizenFactory()
    assert (
        api_client.post(
            login, {"email": other.email, "password": PASSWORD}, format="json"
        ).status_code
        == 200
    )


def test_the_portal_form_refuses_sign_in_after_five_failures_for_one_email(client):
    user = CitizenFactory(email="li.na@example.cn")
    for _ in range(5):
        wrong = client.post("/accounts/login/", {"login": user.email, "password": "wrong-password"})
        assert wrong.status_code == 200 and not wrong.wsgi_request.user.is_authenticated
    refused = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert refused.status_code in (200, 429)
    assert "Too many failed login attempts" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_ins_per_address_are_limited(client, settings):
    from allauth.account import app_settings

    assert app_settings.RATE_LIMITS["login"] == "30/m/ip"
    assert app_settings.RATE_LIMITS["login_failed"] == "10/m/ip,5/5m/key"
    assert app_settings.RATE_LIMITS["signup"] == "20/m/ip"
