"""Each merchant's consumed vouchers and checkouts are settled per day, once, and downloadable."""

import pytest
from django.utils import timezone

from redemption.models import Settlement
from redemption.tasks import settle_day

from .conftest import client_for
from .factories import PointsOffsetScenarioFactory, ScenarioFactory

pytestmark = pytest.mark.django_db


def test_a_day_is_settled_once_with_points_and_money(
    manager, manager_client, cashier_client, make_citizen, client
):
    voucher_scenario = ScenarioFactory(merchant=manager.merchant, points_cost=300)
    PointsOffsetScenarioFactory(merchant=manager.merchant, points_per_yuan=100, max_share_bp=5000)
    citizen = make_citizen(points=10_000)
    citizen_client = client_for(citizen)
    for key in ("a", "b"):
        code = citizen_client.post(
            "/api/v1/redemptions",
            {"scenario_id": voucher_scenario.pk},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
        ).json()["voucher"]["code"]
        cashier_client.post(f"/api/v1/merchant/vouchers/{code}/consume")
    pay = citizen_client.post("/api/v1/me/payment-codes").json()["code"]
    cashier_client.post(
        "/api/v1/merchant/checkouts",
        {"payment_code": pay, "amount_fen": 2000, "points": 700},
        format="json",
    )
    today = timezone.localdate().isoformat()

    assert settle_day(today) == 1
    first = manager_client.get("/api/v1/merchant/settlements").json()
    ScenarioFactory(merchant=manager.merchant)  # later activity does not reopen a settled day
    assert settle_day(today) == 1
    assert manager_client.get("/api/v1/merchant/settlements").json() == first

    [row] = first
    assert row["vouchers_consumed"] == 2 and row["voucher_points"] == 600
    assert (
        row["checkouts"] == 1
        and row["checkout_points"] == 700
        and row["checkout_discount_fen"] == 700
    )
    assert row["points_total"] == 1300 and row["amount_fen"] == 1300
    assert Settlement.objects.count() == 1

    client.force_login(manager.user)
    csv = client.get("/merchant/settlements.csv")
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().strip().splitlines()
    assert (
        lines[0].startswith("merchant,day,") and f",{today},2,600,1,700,700,1300,1300" in lines[1]
    )


def test_cashiers_do_not_see_settlements(cashier_client):
    assert cashier_client.get("/api/v1/merchant/settlements").status_code == 403


def test_the_nightly_run_catches_up_a_missed_day(manager, cashier_client, make_citizen):
    from datetime import timedelta

    from redemption.models import Voucher
    from redemption.tasks import settle_recent_days

    scenario = ScenarioFactory(merchant=manager.merchant, points_cost=100)
    code = (
        client_for(make_citizen(points=100))
        .post(
            "/api/v1/redemptions",
            {"scenario_id": scenario.pk},
            format="json",
            HTTP_IDEMPOTENCY_KEY="k",
        )
        .json()["voucher"]["code"]
    )
    cashier_client.post(f"/api/v1/merchant/vouchers/{code}/consume")
    three_days_ago = timezone.now() - timedelta(days=3)
    Voucher.objects.update(consumed_at=three_days_ago)

    settle_recent_days()
    settle_recent_days()

    [settlement] = Settlement.objects.all()
    assert (
        settlement.day == timezone.localtime(three_days_ago).date()
        and settlement.voucher_points == 100
    )
