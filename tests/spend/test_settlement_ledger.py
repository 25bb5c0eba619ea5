"""Settlement through the ledger: the points merchants took move to their settled account, each
statement lists its payments with the money owed at the published rate, and downloads as CSV and PDF."""

import io
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from carbonpoints.ledger.models import LedgerAccount, Posting
from carbonpoints.ledger.selectors import ledger_check
from redemption.ledger_accounts import MERCHANT_SETTLED
from redemption.models import Settlement
from redemption.selectors import (
    merchant_points_unsettled,
    settlement_figures,
    settlement_figures_by_merchant,
)
from redemption.tasks import settle_day
from tests.factories import UserFactory

from .conftest import assert_error, client_for
from .factories import PointsOffsetScenarioFactory, ScenarioFactory, StaffFactory

pytestmark = pytest.mark.django_db


def _redeem(citizen_client, scenario, key):
    return citizen_client.post(
        "/api/v1/redemptions", {"scenario_id": scenario.pk}, format="json", HTTP_IDEMPOTENCY_KEY=key
    ).json()["voucher"]["code"]


def _checkout(citizen_client, cashier_client, *, amount_fen, points):
    pay = citizen_client.post("/api/v1/me/payment-codes").json()["code"]
    return cashier_client.post(
        "/api/v1/merchant/checkouts",
        {"payment_code": pay, "amount_fen": amount_fen, "points": points},
        format="json",
    ).json()


def _settled_points(merchant_id):
    account = LedgerAccount.objects.filter(kind=MERCHANT_SETTLED[0], owner_id=merchant_id).first()
    return account.balance if account else 0


@pytest.fixture
def a_day_of_payments(manager, cashier_client, make_citizen):
    """Two vouchers consumed, one still held by its citizen, one checkout: 600 + 700 points taken."""
    vouchers = ScenarioFactory(merchant=manager.merchant, points_cost=300)
    PointsOffsetScenarioFactory(merchant=manager.merchant, points_per_yuan=100, max_share_bp=5000)
    citizens = [client_for(make_citizen(points=5_000)) for _ in range(2)]
    for n, citizen in enumerate(citizens):
        cashier_client.post(
            f"/api/v1/merchant/vouchers/{_redeem(citizen, vouchers, f'v{n}')}/consume"
        )
    _redeem(citizens[0], vouchers, "held")
    checkout = _checkout(citizens[1], cashier_client, amount_fen=2000, points=700)
    return {"checkout_id": checkout["id"]}


def test_settling_moves_the_points_taken_to_the_settled_account(
    manager, manager_client, a_day_of_payments
):
    merchant = manager.merchant
    assert merchant_points_unsettled(merchant_id=merchant.pk) == 300 + 300 + 300 + 700

    settle_day(timezone.localdate().isoformat())

    settlement = Settlement.objects.get()
    # what the merchant holds is what is not settled: the voucher a citizen still holds
    assert merchant_points_unsettled(merchant_id=merchant.pk) == 300
    assert _settled_points(merchant.pk) == 1300
    legs = Posting.objects.filter(transaction=settlement.ledger_tx)
    assert sum(leg.amount for leg in legs) == 0 and {leg.account.kind for leg in legs} >= {
        "merchant_settled"
    }
    assert ledger_check().ok, ledger_check().problems

    statement = manager_client.get(f"/api/v1/merchant/settlements/{settlement.pk}").json()
    assert statement["ledger_transaction_id"] == settlement.ledger_tx_id
    assert statement["points_total"] == 1300 and statement["amount_fen"] == 1300
    assert statement["points_unsettled"] == 300
    assert sorted(
        (line["kind"], line["points"], line["amount_fen"]) for line in statement["lines"]
    ) == [("checkout", 700, 700), ("voucher", 300, 300), ("voucher", 300, 300)]
    assert {line["rate_yuan_per_point"] for line in statement["lines"]} == {"0.010000"}
    assert {line["rate_source"] for line in statement["lines"]} == {"platform"}
    # each line names the payment's own ledger transaction, settled once
    spent = {
        p.transaction_id
        for p in Posting.objects.filter(account__kind__startswith="merchant_points", amount__gt=0)
    }
    assert {line["spend_transaction_id"] for line in statement["lines"]} < spent


def test_the_amount_owed_follows_the_published_rate(
    settings, manager, manager_client, a_day_of_payments
):
    settings.REDEMPTION_SETTLEMENT_YUAN_PER_POINT = Decimal("0.0125")  # 80 points = 1 CNY

    settle_day(timezone.localdate().isoformat())

    [row] = manager_client.get("/api/v1/merchant/settlements").json()
    assert row["amount_fen"] == 375 + 375 + 875
    statement = manager_client.get(f"/api/v1/merchant/settlements/{row['id']}").json()
    assert sorted(line["amount_fen"] for line in statement["lines"]) == [375, 375, 875]
    assert {line["rate_yuan_per_point"] for line in statement["lines"]} == {"0.012500"}


def test_money_is_rounded_to_whole_fen_half_to_even():
    from redemption.services import settlement_amount_fen

    rate = Decimal("0.005")  # half a fen per point
    assert [settlement_amount_fen(points=n, rate=rate) for n in (1, 3, 5, 200)] == [0, 2, 2, 100]


def test_a_settled_checkout_can_no_longer_be_reversed(manager, cashier_client, a_day_of_payments):
    settle_day(timezone.localdate().isoformat())

    response = cashier_client.post(
        f"/api/v1/merchant/checkouts/{a_day_of_payments['checkout_id']}/reverse"
    )

    assert_error(response, 409, "checkout_settled")
    assert _settled_points(manager.merchant.pk) == 1300
    assert ledger_check().ok


def test_payments_after_a_statement_are_settled_by_the_next_one(
    manager, cashier_client, make_citizen, a_day_of_payments
):
    today = timezone.localdate()
    settle_day(today.isoformat())
    later = client_for(make_citizen(points=500))
    code = _redeem(later, ScenarioFactory(merchant=manager.merchant, points_cost=200), "later")
    cashier_client.post(f"/api/v1/merchant/vouchers/{code}/consume")

    assert settle_day(today.isoformat()) == 1  # the day's statement is final
    settle_day((today + timezone.timedelta(days=1)).isoformat())

    assert list(Settlement.objects.order_by("day").values_list("points_total", flat=True)) == [
        1300,
        200,
    ]
    assert merchant_points_unsettled(merchant_id=manager.merchant.pk) == 300
    assert ledger_check().ok


def test_statements_download_as_csv_and_pdf_for_their_merchant_only(
    manager, manager_client, client, a_day_of_payments
):
    settle_day(timezone.localdate().isoformat())
    settlement = Settlement.objects.get()

    csv = manager_client.get(f"/api/v1/merchant/settlements/{settlement.pk}/csv")
    assert csv["Content-Type"].startswith("text/csv")
    rows = csv.content.decode().strip().splitlines()
    assert rows[0].startswith("merchant,day,occurred_at,kind,reference,ledger_transaction,points")
    assert len(rows) == 1 + 3 + 1 and rows[-1].endswith(
        f",total,,{settlement.ledger_tx_id},1300,,,13.00"
    )

    for language in ("zh-hans", "en"):
        pdf = manager_client.get(
            f"/api/v1/merchant/settlements/{settlement.pk}/pdf", HTTP_ACCEPT_LANGUAGE=language
        )
        assert pdf["Content-Type"] == "application/pdf"
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        for figure in (
            "1300",
            "13.00",
            "700",
            "7.00",
            "0.01",
            f"#{settlement.ledger_tx_id}",
            settlement.day.isoformat(),
        ):
            assert figure in text, (language, figure)

    client.force_login(manager.user)  # the console offers the same files
    assert (
        client.get(f"/merchant/settlements/{settlement.pk}.pdf")["Content-Type"]
        == "application/pdf"
    )
    assert client.get(f"/merchant/settlements/{settlement.pk}.csv").content == csv.content

    stranger = client_for(StaffFactory().user)
    assert_error(
        stranger.get(f"/api/v1/merchant/settlements/{settlement.pk}"), 404, "settlement_not_found"
    )
    assert_error(
        stranger.get(f"/api/v1/merchant/settlements/{settlement.pk}/pdf"),
        404,
        "settlement_not_found",
    )


def test_the_dashboard_figures_of_settlements(manager, a_day_of_payments):
    settle_day(timezone.localdate().isoformat())

    assert settlement_figures() == {
        "statements": 1,
        "points_settled": 1300,
        "amount_owed_fen": 1300,
        "points_unsettled": 300,
    }
    assert settlement_figures_by_merchant() == [
        {
            "merchant_id": manager.merchant.pk,
            "merchant": manager.merchant.name,
            "statements": 1,
            "points_settled": 1300,
            "amount_owed_fen": 1300,
            "points_unsettled": 300,
        }
    ]


def test_the_dashboard_shows_each_merchants_settlements_to_the_operators_of_its_region(
    manager, a_day_of_payments, client
):
    settle_day(timezone.localdate().isoformat())
    wuhan, yichang = (
        UserFactory(role="operator", is_staff=True, is_superuser=True) for _ in range(2)
    )
    wuhan.regions.set(["420100"])  # the merchant's region: the deployment's default
    yichang.regions.set(["420500"])

    def settlements_seen_by(operator) -> str:
        client.force_login(operator)
        page = client.get("/operators/dashboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        return page[
            page.index('id="settlements"') : page.index(
                "</section>", page.index('id="settlements"')
            )
        ]

    seen = settlements_seen_by(wuhan)
    assert manager.merchant.name in seen and "1,300" in seen and "¥13.00" in seen and "300" in seen
    assert settlement_figures(regions=["420500"]) == dict.fromkeys(settlement_figures(), 0)
    seen = settlements_seen_by(yichang)
    assert manager.merchant.name not in seen and "No merchant has taken points yet." in seen


def test_the_console_lists_each_statement_with_its_files_and_what_is_unsettled(
    manager, client, a_day_of_payments
):
    settle_day(timezone.localdate().isoformat())
    settlement = Settlement.objects.get()
    client.force_login(manager.user)

    page = client.get("/merchant/settlements/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert (
        f"/merchant/settlements/{settlement.pk}.pdf" in page
        and f"/merchant/settlements/{settlement.pk}.csv" in page
    )
    assert "Points not yet settled: <strong>300</strong>" in page
    assert client.get(f"/merchant/settlements/{settlement.pk}.txt").status_code == 404


def test_a_missed_week_is_caught_up_day_by_day(manager, cashier_client, make_citizen):
    from redemption.models import Voucher
    from redemption.tasks import settle_recent_days

    scenario = ScenarioFactory(merchant=manager.merchant, points_cost=100)
    citizen = client_for(make_citizen(points=1_000))
    for days_ago in (6, 4, 4, 2):
        code = _redeem(citizen, scenario, f"k{days_ago}-{Voucher.objects.count()}")
        cashier_client.post(f"/api/v1/merchant/vouchers/{code}/consume")
        Voucher.objects.filter(code=code).update(
            consumed_at=timezone.now() - timezone.timedelta(days=days_ago)
        )

    settle_recent_days()

    today = timezone.localdate()
    assert dict(Settlement.objects.values_list("day", "points_total")) == {
        today - timezone.timedelta(days=6): 100,
        today - timezone.timedelta(days=4): 200,
        today - timezone.timedelta(days=2): 100,
    }
    assert merchant_points_unsettled(merchant_id=manager.merchant.pk) == 0
    assert ledger_check().ok
