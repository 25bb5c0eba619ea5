"""The merchant console pages: staff only, each for its own merchant, managers for the office."""

import pytest

from redemption.models import Scenario

from .factories import CashierFactory, PointsOffsetScenarioFactory, ScenarioFactory, fill_pool
from .test_till import payment_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_page(client, manager):
    client.force_login(manager.user)
    return client


@pytest.fixture
def cashier_page(client, cashier):
    client.force_login(cashier.user)
    return client


def test_the_console_asks_for_a_sign_in_first(client):
    response = client.get("/merchant/")
    assert response.status_code == 302 and response["Location"].startswith(
        "/accounts/login/?next=/merchant/"
    )


def test_citizens_are_turned_away_in_the_products_words(client, citizen):
    client.force_login(citizen)
    response = client.get("/merchant/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = response.content.decode()
    assert response.status_code == 403 and 'id="refusal"' in page and '<nav class="citizen"' in page
    assert "仅商户员工可使用控制台。" in page
    assert "403 Forbidden" not in page


def test_the_till_consumes_a_typed_voucher_once(cashier_page, cashier, make_citizen):
    from .conftest import client_for

    scenario = ScenarioFactory(merchant=cashier.merchant, title="Free tea")
    code = (
        client_for(make_citizen(points=100))
        .post(
            "/api/v1/redemptions",
            {"scenario_id": scenario.pk},
            format="json",
            HTTP_IDEMPOTENCY_KEY="x",
        )
        .json()["voucher"]["code"]
    )

    first = cashier_page.post("/merchant/vouchers/consume", {"code": code}, follow=True)
    assert "Voucher accepted: Free tea" in first.content.decode()
    again = cashier_page.post(
        "/merchant/vouchers/consume", {"code": code}, follow=True
    ).content.decode()
    assert '<li class="error" role="alert">This voucher was consumed already.</li>' in again
    assert "voucher_already_consumed" not in again  # codes are for the API; people read a sentence


def test_the_till_takes_points_and_reverses(cashier_page, cashier, make_citizen):
    PointsOffsetScenarioFactory(merchant=cashier.merchant)
    citizen = make_citizen(points=1000)
    page = cashier_page.post(
        "/merchant/checkouts",
        {"payment_code": payment_code(citizen), "amount_yuan": "20.00", "points": "500"},
        follow=True,
    )
    assert "the customer pays ¥15.00" in page.content.decode()
    checkout = cashier.merchant.checkouts.get()
    page = cashier_page.post(f"/merchant/checkouts/{checkout.pk}/reverse", follow=True)
    assert "Checkout reversed" in page.content.decode()


def test_the_till_shows_a_capped_amount_and_takes_points_only_once_confirmed(
    cashier_page, cashier, make_citizen
):
    PointsOffsetScenarioFactory(
        merchant=cashier.merchant
    )  # 100 points a yuan, at most 30% of the price
    citizen = make_citizen(points=5000)
    code = payment_code(citizen)

    asked = cashier_page.post(
        "/merchant/checkouts", {"payment_code": code, "amount_yuan": "35.50", "points": "99999999"}
    ).content.decode()
    assert not cashier.merchant.checkouts.exists()  # nothing is taken before the cashier confirms
    assert (
        '<li class="warning" role="alert">Only 1,065 of the 99,999,999 points asked can pay for this order'
        in asked
    )
    assert "points pay at most 30% of this ¥35.50 order" in asked
    assert "1,065 points take ¥10.65 off; the customer pays ¥24.85." in asked

    paid = cashier_page.post(
        "/merchant/checkouts",
        {"payment_code": code, "amount_yuan": "35.50", "points": "1065", "confirmed": "1"},
        follow=True,
    ).content.decode()
    checkout = cashier.merchant.checkouts.get()
    assert (checkout.points_used, checkout.discount_fen) == (1065, 1065)
    assert "the customer pays ¥24.85" in paid
    assert '<td class="num">¥35.50</td>' in paid and "分" not in paid and " fen" not in paid


def test_reversing_a_checkout_asks_first(cashier_page, cashier, make_citizen):
    PointsOffsetScenarioFactory(merchant=cashier.merchant)
    cashier_page.post(
        "/merchant/checkouts",
        {
            "payment_code": payment_code(make_citizen(points=1000)),
            "amount_yuan": "20.00",
            "points": "500",
        },
    )
    till = cashier_page.get("/merchant/").content.decode()
    assert (
        'data-confirm="Reverse this checkout and give the 500 points back to the customer?"' in till
    )


def test_a_manager_creates_and_pauses_a_scenario_and_sees_its_chart(manager_page, manager):
    page = manager_page.post(
        "/merchant/scenarios/",
        {"kind": "voucher", "title": "Tote bag", "points_cost": "200", "stock": "20"},
        follow=True,
    )
    assert "Tote bag" in page.content.decode() and "<svg" in page.content.decode()
    scenario = Scenario.objects.get(title="Tote bag")
    manager_page.post(f"/merchant/scenarios/{scenario.pk}/pause")
    assert Scenario.objects.get(pk=scenario.pk).status == "paused"


def test_cashiers_cannot_reach_the_office_pages(cashier_page):
    assert cashier_page.get("/merchant/settlements/").status_code == 403
    assert cashier_page.get("/merchant/staff/").status_code == 403
    assert cashier_page.get("/merchant/scenarios/").status_code == 200
    assert (
        cashier_page.post("/merchant/scenarios/", {"kind": "voucher", "title": "x"}).status_code
        == 403
    )


def test_a_manager_retires_an_offset_from_the_console(manager_page):
    fill_pool("metro", 2026, 9, 500)
    page = manager_page.post(
        "/merchant/offsets/", {"grams": "120", "purpose": "Shop lighting"}, follow=True
    )
    body = page.content.decode()
    assert (
        "Offset certificate" in body
        and "Shop lighting" in body
        and "CP-METRO-202609-000000000120" in body
    )


def test_retiring_an_offset_asks_first_and_a_double_submit_retires_once(manager_page, manager):
    from redemption.models import OffsetCertificate

    fill_pool("metro", 2026, 9, 500)
    form = manager_page.get("/merchant/offsets/").content.decode()
    assert (
        'data-confirm="Retire these reductions for good? A retired offset cannot be undone."'
        in form
    )
    key = form.split('name="idempotency_key" value="')[1].split('"')[0]

    sent = {"grams": "120", "purpose": "Shop lighting", "idempotency_key": key}
    first = manager_page.post("/merchant/offsets/", sent)
    again = manager_page.post("/merchant/offsets/", sent)  # the second tap of a slow page
    assert OffsetCertificate.objects.count() == 1
    assert (
        first["Location"]
        == again["Location"]
        == f"/certificates/{OffsetCertificate.objects.get().pk}"
    )


def test_a_manager_adds_a_cashier(manager_page, manager):
    page = manager_page.post(
        "/merchant/staff/", {"email": "new@shop.cn", "role": "cashier"}, follow=True
    )
    assert "new@shop.cn can sign in with the password" in page.content.decode()
    assert manager.merchant.staff.filter(user__email="new@shop.cn", role="cashier").exists()


def test_other_merchants_checkouts_cannot_be_reversed(client, cashier, make_citizen):
    PointsOffsetScenarioFactory(merchant=cashier.merchant)
    from redemption.services import checkout_create

    checkout = checkout_create(
        staff=cashier,
        payment_code=payment_code(make_citizen(points=100)),
        amount_fen=1000,
        points=100,
    )
    client.force_login(CashierFactory().user)
    page = client.post(f"/merchant/checkouts/{checkout.pk}/reverse", follow=True).content.decode()
    assert '<li class="error" role="alert">No such checkout at this merchant.</li>' in page
    assert "not_found" not in page


def test_a_citizen_redeems_from_the_portal_wallet_once_per_form(client, make_citizen):
    citizen = make_citizen(points=500)
    scenario = ScenarioFactory(title="Tote bag", points_cost=200)
    client.force_login(citizen)

    form = {"scenario_id": scenario.pk, "idempotency_key": "form-1"}
    client.post("/me/wallet/redeem", form)
    page = client.post("/me/wallet/redeem", form, follow=True)  # a double submit
    body = page.content.decode()
    assert "Redeemed: Tote bag" in body and 'id="points">300<' in body
    assert body.count("<code>") == 1

    page = client.post("/me/wallet/", follow=True)
    assert 'id="payment-code"' in page.content.decode()


def test_staff_use_the_app_token_for_the_merchant_api(api_client, db):
    from redemption.services import merchant_create

    merchant, password = merchant_create(name="Token Shop", manager_email="boss@token.cn")
    login = api_client.post(
        "/_allauth/app/v1/auth/login",
        {"email": "boss@token.cn", "password": password},
        format="json",
    )
    token = login.json()["meta"]["session_token"]
    response = api_client.get("/api/v1/merchant/scenarios", HTTP_X_SESSION_TOKEN=token)
    assert response.status_code == 200 and response.json() == []


def test_operators_see_the_spend_side_in_the_admin(client, cashier, make_citizen):
    from accounts.models import User

    from .factories import fill_pool

    fill_pool("metro", 2026, 9, 10)
    ScenarioFactory(merchant=cashier.merchant)
    operator = User.objects.create_superuser(email="op@example.cn", password="x")
    client.force_login(operator)
    for model in [
        "merchant",
        "merchantstaff",
        "scenario",
        "redemption",
        "voucher",
        "checkout",
        "paymentcode",
        "settlement",
        "unitblock",
        "offsetcertificate",
        "idempotentanswer",
    ]:
        assert client.get(f"/admin/redemption/{model}/").status_code == 200, model
    scenario = Scenario.objects.get()
    client.post(
        "/admin/redemption/scenario/", {"action": "pause", "_selected_action": [scenario.pk]}
    )
    assert Scenario.objects.get(pk=scenario.pk).status == "paused"
