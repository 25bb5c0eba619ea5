"""The carbon-account evaluation: levels by trailing-12-month reduction (thresholds are data), badges, leaderboard."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.ledger_accounts import REDUCTION
from accounts.models import Level
from accounts.services import citizen_ranks_recompute, citizen_standings_recompute
from carbonpoints.evaluation.models import BadgeAward
from carbonpoints.evaluation.services import badges_award
from carbonpoints.ledger.models import Posting
from carbonpoints.ledger.services import Leg, ledger_account_get_or_create, transaction_post
from carbonpoints.notifications.services import notifications_collect
from tests.earn.factories import event
from tests.factories import CitizenFactory

pytestmark = pytest.mark.django_db


def _credit_grams(citizen, grams: int, days_ago: int = 0) -> None:
    source = ledger_account_get_or_create(kind="test_grams_source", unit="g", allow_negative=True)
    kind, unit = REDUCTION
    tx = transaction_post(
        kind="test_credit",
        legs=[
            Leg(source, -grams),
            Leg(
                ledger_account_get_or_create(
                    kind=kind, unit=unit, owner_id=citizen.carbon_account.pk
                ),
                grams,
            ),
        ],
    )
    if (
        days_ago
    ):  # as if credited then (postings are immutable: the no_posting_guard fixture lifts the guard)
        Posting.objects.filter(transaction=tx).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )


def _level(client) -> dict:
    return client.get("/api/v1/me/account").json()["level"]


@pytest.fixture
def no_posting_guard(django_db_blocker):
    """Postings are immutable (a trigger); old postings are made by lifting it for the test."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE ledger_posting DISABLE TRIGGER USER")
    yield
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE ledger_posting ENABLE TRIGGER USER")


def test_the_level_follows_the_last_12_months_only(citizen, citizen_client, no_posting_guard):
    _credit_grams(
        citizen, 60_000, days_ago=400
    )  # more than a year ago: counts in the total, not for the level
    _credit_grams(citizen, 12_000)

    citizen_standings_recompute()

    level = _level(citizen_client)
    assert (level["code"], level["trailing_12m_g"], level["next_code"], level["to_next_g"]) == (
        "sapling",
        12_000,
        "tree",
        50_000 - 12_000,
    )
    assert citizen_client.get("/api/v1/me/account").json()["reduction_g"] == 72_000


def test_thresholds_are_data_operators_edit(citizen, citizen_client):
    _credit_grams(citizen, 12_000)
    citizen_standings_recompute()
    Level.objects.filter(code="sapling").update(min_trailing_g=20_000)

    assert _level(citizen_client)["code"] == "sprout"
    client = Client()
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/admin/accounts/level/").status_code == 200


def test_reaching_a_level_is_told_once(citizen, citizen_client):
    citizen_standings_recompute()
    _credit_grams(citizen, 10_000)
    citizen_standings_recompute()
    citizen_standings_recompute()

    notifications_collect()
    notifications_collect()

    texts = [
        n["text"]
        for n in citizen_client.get("/api/v1/me/notifications", HTTP_ACCEPT_LANGUAGE="en").json()[
            "results"
        ]
    ]
    assert texts == ["You reached the level Sapling."]


def test_badges_for_a_streak_variety_and_a_milestone(linked_citizen_client, metro, citizen):
    now = timezone.now()
    metro.send(*[event(external_id=f"d{n}", occurred_at=now - timedelta(days=n)) for n in range(7)])
    _credit_grams(citizen, 10_000)

    assert badges_award() == 2
    assert badges_award() == 0  # once per citizen

    badges = {b["code"]: b for b in linked_citizen_client.get("/api/v1/me/badges").json()}
    assert badges["streak_7"]["earned"] and badges["milestone_10kg"]["earned"]
    assert not badges["variety_4"]["earned"] and not badges["milestone_1t"]["earned"]
    notifications_collect()
    inbox = linked_citizen_client.get("/api/v1/me/notifications").json()["results"]
    assert [(n["kind"], n["count"]) for n in inbox if n["kind"] == "badge_reached"] == [
        ("badge_reached", 2)
    ]


def test_another_citizens_badges_are_not_mine(citizen_client):
    other = CitizenFactory()
    _credit_grams(other, 10_000)
    badges_award()

    assert not any(b["earned"] for b in citizen_client.get("/api/v1/me/badges").json())
    assert BadgeAward.objects.filter(account=other.carbon_account).count() == 1


def test_two_citizens_cannot_take_the_same_nickname(citizen):
    from carbonpoints.evaluation.models import LeaderboardEntry

    first, second = Client(HTTP_ACCEPT_LANGUAGE="en"), Client(HTTP_ACCEPT_LANGUAGE="en")
    first.force_login(CitizenFactory())
    second.force_login(citizen)
    first.post("/me/evaluation/", {"nickname": "Green Bee"})

    refused = second.post("/me/evaluation/", {"nickname": " green bee "})
    assert refused.status_code == 200
    assert (
        "Another citizen appears under this nickname: choose another." in refused.content.decode()
    )
    assert list(LeaderboardEntry.objects.values_list("nickname", flat=True)) == ["Green Bee"]
    second.post("/me/evaluation/", {"nickname": "Green Bee Two"})
    assert LeaderboardEntry.objects.get(account=citizen.carbon_account).nickname == "Green Bee Two"
    first.post(
        "/me/evaluation/", {"nickname": "GREEN BEE"}
    )  # one's own nickname in another case is fine
    assert LeaderboardEntry.objects.filter(nickname="GREEN BEE").count() == 1


def test_the_database_refuses_a_repeated_nickname_whatever_its_case(citizen):
    from django.db import IntegrityError, transaction

    from carbonpoints.evaluation.models import LeaderboardEntry

    LeaderboardEntry.objects.create(account=citizen.carbon_account, nickname="Green Bee")
    with pytest.raises(IntegrityError), transaction.atomic():
        LeaderboardEntry.objects.create(
            account=CitizenFactory().carbon_account, nickname="GREEN BEE"
        )


def test_the_leaderboard_lists_only_citizens_who_opt_in(citizen):
    shy, keen = CitizenFactory(), CitizenFactory()
    for person, grams in ((citizen, 5_000), (shy, 9_000), (keen, 7_000)):
        _credit_grams(person, grams)
    citizen_ranks_recompute()
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(keen)
    browser.post("/me/evaluation/", {"nickname": "Green Bee"})
    browser.force_login(citizen)
    browser.post("/me/evaluation/", {"nickname": "Me"})

    page = browser.get("/me/evaluation/").content.decode()

    assert page.index("Green Bee") < page.index(">Me<") and shy.email not in page
    assert '<td>2</td><td translate="no">Green Bee</td>' in page  # the city-wide position
    browser.post("/me/evaluation/", {"leave": "1"})
    assert ">Me<" not in browser.get("/me/evaluation/").content.decode()
    api = APIClient()
    api.force_authenticate(citizen)
    assert api.get("/api/v1/me/badges").status_code == 200
