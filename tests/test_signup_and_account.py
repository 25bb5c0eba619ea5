"""Citizens sign up in the app (allauth headless) or on the portal and get a carbon account."""

import pytest
from django.urls import reverse

from accounts.ledger_accounts import POINTS, REDUCTION
from accounts.models import CarbonAccount, User
from accounts.tasks import recompute_ranks, recompute_standings
from carbonpoints.ledger.services import Leg, ledger_account_get_or_create, transaction_post
from tests.factories import CitizenFactory, UserFactory

pytestmark = pytest.mark.django_db


def app_signup(client, email, password="a-long-secret-42"):
    return client.post(
        "/_allauth/app/v1/auth/signup", {"email": email, "password": password}, format="json"
    )


def test_app_signup_opens_a_carbon_account_and_its_token_reads_it(api_client):
    response = app_signup(api_client, "li.lei@example.cn")
    assert response.status_code == 200, response.content
    token = response.json()["meta"]["session_token"]

    account = api_client.get("/api/v1/me/account", HTTP_X_SESSION_TOKEN=token)

    assert account.status_code == 200
    assert account.json() == {
        "reduction_g": 0,
        "points": {"available": 0, "pending": 0},
        "level": {
            "code": "sprout",
            "name": account.json()["level"]["name"],
            "min_g": 0,
            "next_code": "sapling",
            "next_min_g": 10_000,
            "to_next_g": 10_000,
            "trailing_12m_g": 0,
        },
        "rank": {"position": None, "of": None, "ahead_of_percent": None, "as_of": None},
        "points_owed": 0,
        "home_region": "420100",
        "home_region_chosen": False,  # added with regions
    }
    assert CarbonAccount.objects.filter(user__email="li.lei@example.cn").exists()


def test_app_login_returns_a_token_accepted_by_the_api(api_client):
    CitizenFactory(email="han.meimei@example.cn", password="a-long-secret-42")
    response = api_client.post(
        "/_allauth/app/v1/auth/login",
        {"email": "han.meimei@example.cn", "password": "a-long-secret-42"},
        format="json",
    )
    assert response.status_code == 200, response.content
    token = response.json()["meta"]["session_token"]
    assert api_client.get("/api/v1/me/account", HTTP_X_SESSION_TOKEN=token).status_code == 200


def test_a_bad_token_is_not_signed_in(api_client):
    response = api_client.get("/api/v1/me/account", HTTP_X_SESSION_TOKEN="not-a-token")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_portal_signup_opens_a_carbon_account_and_shows_it(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "wang.fang@example.cn",
            "password1": "a-long-secret-42",
            "password2": "a-long-secret-42",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="wang.fang@example.cn")
    assert user.carbon_account
    page = client.get(reverse("my-account"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "My carbon account" in page.content.decode()


def test_account_figures_come_from_the_ledger(citizen_client, citizen):
    others = [CitizenFactory() for _ in range(3)]
    owner = citizen.carbon_account.pk
    source_g = ledger_account_get_or_create(kind="test_source", unit="g", allow_negative=True)
    source_pt = ledger_account_get_or_create(kind="test_source", unit="pt", allow_negative=True)
    transaction_post(
        kind="credit",
        legs=[
            Leg(source_g, -12_345),
            Leg(ledger_account_get_or_create(kind=REDUCTION[0], unit="g", owner_id=owner), 12_345),
            Leg(source_pt, -1_234),
            Leg(ledger_account_get_or_create(kind=POINTS[0], unit="pt", owner_id=owner), 1_234),
        ],
    )
    other = others[0].carbon_account.pk
    transaction_post(
        kind="credit",
        legs=[
            Leg(source_g, -50_000),
            Leg(ledger_account_get_or_create(kind=REDUCTION[0], unit="g", owner_id=other), 50_000),
        ],
    )

    recompute_ranks.delay()
    recompute_standings.delay()
    body = citizen_client.get("/api/v1/me/account").json()

    assert body["reduction_g"] == 12_345
    assert body["points"] == {"available": 1_234, "pending": 0}
    assert body["level"]["code"] == "sapling"
    assert body["level"]["to_next_g"] == 50_000 - 12_345
    assert {k: body["rank"][k] for k in ("position", "of", "ahead_of_percent")} == {
        "position": 2,
        "of": 4,
        "ahead_of_percent": 66,  # 2 of the 3 others have less
    }
    assert body["rank"]["as_of"]


def test_staff_without_a_carbon_account_get_a_clear_error(api_client):
    api_client.force_authenticate(UserFactory(role="merchant_staff"))
    response = api_client.get("/api/v1/me/account")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_a_citizen"


@pytest.mark.parametrize(
    ("role", "is_staff", "lands_on"),
    [
        ("citizen", False, "/me/"),
        ("merchant_staff", False, "/merchant/"),
        ("operator", True, "/admin/"),
    ],
)
def test_each_role_lands_on_its_own_page_after_signing_in(client, role, is_staff, lands_on):
    factory = CitizenFactory if role == "citizen" else UserFactory
    factory(email="someone@example.cn", password="a-long-secret-42", role=role, is_staff=is_staff)
    response = client.post(
        reverse("account_login"), {"login": "someone@example.cn", "password": "a-long-secret-42"}
    )
    assert response.status_code == 302
    assert response["Location"] == lands_on


def test_a_signed_out_token_is_no_longer_accepted(api_client):
    token = app_signup(api_client, "zhou.min@example.cn").json()["meta"]["session_token"]
    assert api_client.get("/api/v1/me/account", HTTP_X_SESSION_TOKEN=token).status_code == 200

    signed_out = api_client.delete("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=token)
    assert signed_out.status_code == 401  # allauth answers a sign-out with "not signed in"

    response = api_client.get("/api/v1/me/account", HTTP_X_SESSION_TOKEN=token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_the_account_page_costs_at_most_three_queries(api_client, django_assert_max_num_queries):
    """The session (from Redis, or the database on a cache miss), the user, and one statement
    for balances and rank: the app's most frequent read stays cheap as features are added."""
    token = app_signup(api_client, "sun.li@example.cn").json()["meta"]["session_token"]

    with django_assert_max_num_queries(3):
        response = api_client.get("/api/v1/me/account", HTTP_X_SESSION_TOKEN=token)

    assert response.status_code == 200
    assert response.json()["points"] == {"available": 0, "pending": 0}
