"""One account across the province: the citizen's home region, chosen at sign-up or later, in the
API and the portal; it sets their leaderboard."""

import pytest
from django.urls import reverse

from accounts.models import CarbonAccount
from accounts.services import citizen_ranks_recompute
from carbonpoints.evaluation.selectors import leaderboard
from carbonpoints.evaluation.services import leaderboard_join
from tests.factories import CitizenFactory

pytestmark = pytest.mark.django_db

YICHANG = "420500"


def test_the_app_signs_up_with_a_home_region_and_the_account_shows_it(api_client):
    response = api_client.post(
        "/_allauth/app/v1/auth/signup",
        {"email": "wang.fang@example.cn", "password": "a-long-secret-42", "home_region": YICHANG},
        format="json",
    )
    assert response.status_code == 200, response.content
    token = response.json()["meta"]["session_token"]

    account = api_client.get("/api/v1/me/account", HTTP_X_SESSION_TOKEN=token).json()

    assert (account["home_region"], account["home_region_chosen"]) == (YICHANG, True)


def test_a_citizen_chooses_a_home_region_later_and_an_unknown_one_is_refused(citizen_client):
    assert (
        citizen_client.get("/api/v1/me/account").json()["home_region"] == "420100"
    )  # the default region

    chosen = citizen_client.patch("/api/v1/me/account", {"home_region": YICHANG}, format="json")
    unknown = citizen_client.patch("/api/v1/me/account", {"home_region": "999900"}, format="json")

    assert (chosen.status_code, chosen.json()["home_region"]) == (200, YICHANG)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "unknown_region")
    assert citizen_client.get("/api/v1/me/account").json()["home_region"] == YICHANG


def test_the_portal_signs_up_with_a_home_region(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "zhao.lei@example.cn",
            "password1": "a-long-secret-42",
            "password2": "a-long-secret-42",
            "home_region": YICHANG,
        },
    )

    assert response.status_code == 302
    assert CarbonAccount.objects.get(user__email="zhao.lei@example.cn").home_region_id == YICHANG


def test_the_portal_account_page_changes_the_home_region(client, citizen):
    client.force_login(citizen)

    page = client.get("/me/account/").content.decode()
    response = client.post("/me/account/region", {"home_region": YICHANG})

    assert 'id="home-region"' in page
    assert response.status_code == 302
    assert CarbonAccount.objects.get(user=citizen).home_region_id == YICHANG
    assert "Yichang" in client.get("/me/account/").content.decode()


def test_each_region_has_its_leaderboard():
    wuhan_people = [CitizenFactory().carbon_account for _ in range(2)]
    yichang_person = CitizenFactory().carbon_account
    yichang_person.home_region_id = YICHANG
    yichang_person.save()
    for n, account in enumerate([*wuhan_people, yichang_person]):
        leaderboard_join(account=account, nickname=f"n{n}")
    citizen_ranks_recompute()

    assert [row["account_id"] for row in leaderboard(region=YICHANG)] == [yichang_person.pk]
    assert {row["account_id"] for row in leaderboard()} == {a.pk for a in wuhan_people}
    assert [row["position"] for row in leaderboard(region=YICHANG)] == [1]
