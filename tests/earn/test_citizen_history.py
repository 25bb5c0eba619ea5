"""A citizen's actions (with why this many points) and ledger, through the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from carbonpoints.ledger.models import LedgerTransaction
from tests.factories import accruals_posted

from .factories import event

pytestmark = pytest.mark.django_db


def test_an_action_explains_why_it_earned_this_many_points(
    metro, linked_citizen_client, _city_budget
):
    metro.send(event(external_id="why", quantity="12.5"))
    action_id = linked_citizen_client.get("/api/v1/me/actions").json()["results"][0]["id"]

    detail = linked_citizen_client.get(f"/api/v1/me/actions/{action_id}").json()

    assert detail["state"] == "credited" and detail["points"] == 58 and detail["credited_g"] == 584
    why = detail["explanation"]
    assert why["methodology"]["code"] == "metro_ride" and why["methodology"]["version"] == 1
    assert (
        why["methodology"]["baseline_g_per_unit"] == "46.7"
        and why["methodology"]["project_g_per_unit"] == "0"
    )
    assert "深圳" in why["methodology"]["source"] and why["methodology"]["basis"] == "published"
    assert (why["quantity"], why["raw_reduction_g"], why["credited_g"]) == ("12.5", 584, 584)
    assert why["conversion"] == {
        "grams_per_point": 10,
        "carried_in_g": 0,
        "carried_out_g": 4,
        "points": 58,
        "points_status": "available",
        "sponsor": "Test City",
        "budget_id": _city_budget.pk,
    }
    assert detail["sponsor"] == "Test City"


def test_actions_are_paginated_and_filtered_by_time_type_and_state(metro, linked_citizen_client):
    now = timezone.now()
    metro.send(
        *[
            event(external_id=f"a{i}", quantity=1, occurred_at=now - timedelta(hours=i + 1))
            for i in range(5)
        ],
        event(
            external_id="bus", action="bus_ride", quantity=2, occurred_at=now - timedelta(days=3)
        ),
        event(external_id="big", quantity=90, occurred_at=now - timedelta(days=5)),
    )

    page = linked_citizen_client.get("/api/v1/me/actions?page_size=3").json()
    assert page["count"] == 7 and len(page["results"]) == 3 and page["next"]
    buses = linked_citizen_client.get("/api/v1/me/actions?action=bus_ride").json()
    assert [a["action"] for a in buses["results"]] == ["bus_ride"]
    since = (now - timedelta(hours=2, minutes=30)).isoformat()
    recent = linked_citizen_client.get("/api/v1/me/actions", {"occurred_after": since}).json()
    assert recent["count"] == 2
    rejected = linked_citizen_client.get("/api/v1/me/actions?state=rejected").json()["results"]
    assert [(a["reason"], bool(a["reason_message"])) for a in rejected] == [
        ("quantity_implausible", True)
    ]
    assert (
        linked_citizen_client.get("/api/v1/me/actions?occurred_after=yesterday").status_code == 400
    )


def test_someone_elses_action_is_not_found(metro, linked_citizen_client, api_client):
    from tests.factories import CitizenFactory

    metro.send(event())
    action_id = linked_citizen_client.get("/api/v1/me/actions").json()["results"][0]["id"]
    api_client.force_authenticate(CitizenFactory())
    assert api_client.get(f"/api/v1/me/actions/{action_id}").status_code == 404


def test_the_ledger_shows_postings_with_running_balances(metro, linked_citizen_client):
    metro.send(event(quantity=10, occurred_at=timezone.now() - timedelta(hours=2)))
    accruals_posted()  # the minute's job, between two batches an hour apart
    metro.send(event(quantity=5, occurred_at=timezone.now() - timedelta(hours=1)))
    accruals_posted()

    points = linked_citizen_client.get("/api/v1/me/ledger?account=points").json()
    assert [(p["amount"], p["balance_after"]) for p in points["results"]] == [(24, 70), (46, 46)]
    assert {p["kind"] for p in points["results"]} == {"earn_credit"}
    grams = linked_citizen_client.get("/api/v1/me/ledger?unit=g").json()
    assert [(p["account"], p["amount"], p["balance_after"]) for p in grams["results"]] == [
        ("reduction", 234, 701),
        ("reduction", 467, 467),
    ]
    assert linked_citizen_client.get("/api/v1/me/ledger?page_size=1").json()["count"] == 4
    account = linked_citizen_client.get("/api/v1/me/account").json()
    assert account["reduction_g"] == 701 and account["points"]["available"] == 70


def test_actions_credited_together_are_one_ledger_entry_per_account_that_names_them(
    metro, linked_citizen_client
):
    metro.send(
        event(quantity=10, occurred_at=timezone.now() - timedelta(hours=2)),
        event(quantity=5, occurred_at=timezone.now() - timedelta(hours=1)),
    )
    accruals_posted()

    ledger = linked_citizen_client.get("/api/v1/me/ledger").json()["results"]
    assert sorted((p["account"], p["amount"], p["memo"]) for p in ledger) == [
        ("points", 70, "2 actions credited"),
        ("reduction", 701, "2 actions credited"),
    ]
    actions = sorted(
        a["id"] for a in linked_citizen_client.get("/api/v1/me/actions").json()["results"]
    )
    assert ledger[0]["reference"] == f"actions:{actions[0]}-{actions[1]}"
    assert LedgerTransaction.objects.get(kind="earn_credit").metadata == {"action_ids": actions}


def test_partners_can_be_listed_for_linking(metro, citizen_client):
    partners = citizen_client.get("/api/v1/partners").json()
    assert {
        "id": metro.partner.pk,
        "name": "Metro",
        "actions": ["bus_ride", "metro_ride"],
    } in partners


def test_the_schema_documents_the_earn_endpoints(api_client):
    schema = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    for path in [
        "/api/v1/partner/events",
        "/api/v1/partner/batches/{batch_id}",
        "/api/v1/partner/events/{external_id}",
        "/api/v1/partner/uploads",
        "/api/v1/me/links",
        "/api/v1/me/links/{link_id}",
        "/api/v1/me/actions",
        "/api/v1/me/actions/{action_id}",
        "/api/v1/me/ledger",
    ]:
        assert path in schema["paths"], path
    assert "202" in schema["paths"]["/api/v1/partner/events"]["post"]["responses"]
