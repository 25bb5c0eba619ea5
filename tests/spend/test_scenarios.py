"""Managers create scenarios; citizens see what they can redeem now in the catalogue."""

from datetime import timedelta

import pytest
from django.utils import timezone

from redemption.models import Merchant, Scenario

from .conftest import assert_error, client_for
from .factories import MerchantFactory, ScenarioFactory

pytestmark = pytest.mark.django_db


def test_a_manager_creates_a_voucher_scenario_live_at_once(manager_client, make_citizen):
    response = manager_client.post(
        "/api/v1/merchant/scenarios",
        {
            "kind": "voucher",
            "title": "Free coffee",
            "points_cost": 300,
            "stock": 50,
            "per_citizen_limit": 2,
            "valid_from": timezone.now().isoformat(),
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    catalogue = client_for(make_citizen()).get("/api/v1/scenarios").json()["results"]
    [shown] = [s for s in catalogue if s["id"] == response.json()["id"]]
    assert shown["kind"] == "voucher" and shown["points_cost"] == 300 and shown["stock_left"] == 50
    assert shown["merchant"]["name"]


def test_a_points_offset_scenario_keeps_its_share_as_an_exact_decimal(manager_client):
    response = manager_client.post(
        "/api/v1/merchant/scenarios",
        {
            "kind": "points_offset",
            "title": "Pay with points",
            "points_per_yuan": 100,
            "max_share": "0.3",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    scenario = Scenario.objects.get(pk=response.json()["id"])
    assert scenario.max_share_bp == 3000 and scenario.stock is None
    [listed] = manager_client.get("/api/v1/merchant/scenarios").json()
    assert listed["max_share"] == "0.3"


def test_a_scenario_missing_what_its_kind_needs_is_invalid(manager_client):
    error = assert_error(
        manager_client.post(
            "/api/v1/merchant/scenarios", {"kind": "voucher", "title": "x"}, format="json"
        ),
        400,
        "invalid",
    )
    assert "points_cost" in error["details"]


def test_operator_review_keeps_a_new_scenario_out_of_the_catalogue(
    manager_client, settings, citizen_client
):
    settings.REDEMPTION_SCENARIO_REVIEW = True
    response = manager_client.post(
        "/api/v1/merchant/scenarios",
        {
            "kind": "donation",
            "title": "Plant a tree",
            "points_cost": 500,
        },
        format="json",
    )

    assert response.json()["status"] == "pending_review"
    assert citizen_client.get("/api/v1/scenarios").json()["count"] == 0


def test_cashiers_and_citizens_cannot_create_scenarios(cashier_client, citizen_client):
    body = {"kind": "voucher", "title": "x", "points_cost": 1}
    assert_error(
        cashier_client.post("/api/v1/merchant/scenarios", body, format="json"), 403, "manager_only"
    )
    assert_error(
        citizen_client.post("/api/v1/merchant/scenarios", body, format="json"),
        403,
        "not_merchant_staff",
    )


def test_a_pending_merchant_cannot_act(manager, manager_client):
    Merchant.objects.filter(pk=manager.merchant_id).update(status=Merchant.Status.PENDING)
    assert_error(manager_client.get("/api/v1/merchant/scenarios"), 403, "merchant_not_approved")


def test_catalogue_filters_by_kind_merchant_and_what_i_can_afford(make_citizen):
    shop, other = MerchantFactory(), MerchantFactory()
    cheap = ScenarioFactory(merchant=shop, points_cost=50)
    dear = ScenarioFactory(merchant=shop, points_cost=5000)
    donation = ScenarioFactory(merchant=other, kind="donation", points_cost=10)
    ScenarioFactory(merchant=shop, status=Scenario.Status.PAUSED)
    ScenarioFactory(
        merchant=shop,
        valid_until=timezone.now() - timedelta(days=1),
        valid_from=timezone.now() - timedelta(days=9),
    )
    ScenarioFactory(merchant=MerchantFactory(status=Merchant.Status.SUSPENDED))
    client = client_for(make_citizen(points=100))

    def ids(query=""):
        return {s["id"] for s in client.get(f"/api/v1/scenarios{query}").json()["results"]}

    assert ids() == {cheap.pk, dear.pk, donation.pk}
    assert ids("?kind=donation") == {donation.pk}
    assert ids(f"?merchant={shop.pk}") == {cheap.pk, dear.pk}
    assert ids("?affordable=true") == {cheap.pk, donation.pk}
    page = client.get("/api/v1/scenarios?page_size=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


def test_pause_resume_and_cancel(manager_client, merchant, citizen_client):
    scenario = ScenarioFactory(merchant=merchant)
    url = f"/api/v1/merchant/scenarios/{scenario.pk}"

    assert manager_client.post(f"{url}/pause").json()["status"] == "paused"
    assert citizen_client.get("/api/v1/scenarios").json()["count"] == 0
    assert_error(manager_client.post(f"{url}/pause"), 409, "scenario_state_conflict")
    assert manager_client.post(f"{url}/resume").json()["status"] == "live"
    assert manager_client.post(f"{url}/cancel").json()["status"] == "cancelled"


def test_another_merchants_scenario_is_not_found(manager_client):
    other = ScenarioFactory()
    assert_error(
        manager_client.post(f"/api/v1/merchant/scenarios/{other.pk}/pause"), 404, "not_found"
    )


def test_the_console_chart_counts_todays_redemptions(make_citizen, merchant, client, manager):
    scenario = ScenarioFactory(merchant=merchant, title="Chart me")
    for key in ("a", "b"):
        client_for(make_citizen(points=100)).post(
            "/api/v1/redemptions",
            {"scenario_id": scenario.pk},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
        )
    client.force_login(manager.user)
    body = client.get("/merchant/scenarios/").content.decode()
    assert "stock 8 of 10" in body and "2 redeemed" in body
    assert f"<title>{timezone.localdate().isoformat()}: 2</title>" in body


def test_max_share_may_be_sent_as_a_json_number(manager_client):
    response = manager_client.post(
        "/api/v1/merchant/scenarios",
        {
            "kind": "points_offset",
            "title": "Pay with points",
            "points_per_yuan": 100,
            "max_share": 0.25,
            "stock": None,
            "per_citizen_limit": None,
            "valid_from": None,
            "valid_until": None,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Scenario.objects.get(pk=response.json()["id"]).max_share_bp == 2500
    error = assert_error(
        manager_client.post(
            "/api/v1/merchant/scenarios",
            {"kind": "points_offset", "title": "x", "points_per_yuan": 100, "max_share": 1.5},
            format="json",
        ),
        400,
        "invalid",
    )
    assert "max_share" in error["details"]
