"""Every point is funded by a sponsor's budget: through the partner API, the citizen's API, the
operator's deposit page, and the ledger (balanced, re-derived) after each flow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carbonpoints.audit.models import AuditEntry
from carbonpoints.budgets import ledger_accounts as budget_ledger
from carbonpoints.budgets.models import Budget
from carbonpoints.earn.corrections import action_reverse
from carbonpoints.earn.models import ActionRecord
from carbonpoints.ledger.models import LedgerAccount, LedgerTransaction
from carbonpoints.ledger.selectors import ledger_check
from tests.earn.factories import event
from tests.factories import BudgetFactory, funded_budget

pytestmark = pytest.mark.django_db


def left(budget: Budget) -> int:
    return LedgerAccount.objects.get(kind=budget_ledger.BUDGET.kind, owner_id=budget.pk).balance


def account(client) -> dict:
    return client.get("/api/v1/me/account").json()


def my_action(client, external_id: str) -> dict:
    record = ActionRecord.objects.get(external_id=external_id)
    return client.get(f"/api/v1/me/actions/{record.pk}", HTTP_ACCEPT_LANGUAGE="en").json()


def test_a_credit_draws_on_the_city_budget_and_shows_its_sponsor(
    metro, linked_citizen_client, _city_budget
):
    before = left(_city_budget)

    metro.send(event(external_id="ride", quantity="12.5"))  # 584 g → 58 points

    assert left(_city_budget) == before - 58
    seen = my_action(linked_citizen_client, "ride")
    assert (seen["points"], seen["sponsor"], seen["points_status"]) == (
        58,
        "Test City",
        "available",
    )
    assert account(linked_citizen_client)["points"]["available"] == 58
    credit = LedgerTransaction.objects.get(kind="earn_credit")
    legs = {p.account.kind: p.amount for p in credit.postings.select_related("account")}
    assert legs["budget_points"] == -58 and "earn_points_issuance" not in legs
    assert ledger_check().ok


def test_a_sponsor_of_one_scene_funds_it_before_the_city(
    bikes, linked_citizen_client, link, _city_budget
):
    link(linked_citizen_client, bikes.partner, "rider-1")
    cycling = funded_budget(points=1000, sponsor__name="Hello Bike", actions=["bike_ride"])

    bikes.send(
        event(external_id="bike", subject="rider-1", action="bike_ride", quantity=5),
        event(external_id="metro", subject="rider-1", action="metro_ride", quantity=5),
    )

    assert my_action(linked_citizen_client, "bike")["sponsor"] == "Hello Bike"
    assert my_action(linked_citizen_client, "metro")["sponsor"] == "Test City"
    assert left(cycling) == 1000 - ActionRecord.objects.get(external_id="bike").points


@pytest.mark.unfunded
def test_a_throttled_budget_scales_new_credits_by_its_published_factor(
    metro, linked_citizen_client, client
):
    city = funded_budget(
        points=100,
        sponsor__name="City",
        warn_below_percent=60,
        throttle_below_percent=50,
        throttle_factor="0.5",
    )
    metro.send(
        event(external_id="full", quantity="12.5")
    )  # 584 g → 58 points (4 g carried): 42 % left
    metro.send(
        event(external_id="throttled", quantity="12.5")
    )  # 584 g × 0.5 = 292 g (+ 4) → 29 points
    metro.send(
        event(external_id="owed", quantity="12.5")
    )  # 29 points > the 13 left: it waits whole

    assert my_action(linked_citizen_client, "full")["points"] == 58
    seen = my_action(linked_citizen_client, "throttled")
    assert (seen["points"], seen["sponsor"]) == (29, "City")
    rule = next(r for r in seen["explanation"]["rules"] if r["code"] == "budget_throttled")
    assert (
        rule["message"]
        == "The sponsor's budget (City) is running low: points earned at its published rate of 0.5."
    )
    owed = my_action(linked_citizen_client, "owed")
    assert (owed["points_status"], owed["points"]) == (
        "awaiting_funding",
        59,
    )  # owed at the full rate
    assert left(city) == 100 - 58 - 29
    register = client.get(reverse("methodologies")).content.decode()
    assert "City" in register and "× 0.500" in register
    assert ledger_check().ok


@pytest.mark.unfunded
def test_without_a_budget_points_wait_and_a_deposit_from_the_admin_funds_them(
    metro, linked_citizen_client, operator_client, operator, django_capture_on_commit_callbacks
):
    metro.send(event(external_id="early", quantity="12.5"))

    seen = my_action(linked_citizen_client, "early")
    assert (seen["state"], seen["points"], seen["points_status"], seen["sponsor"]) == (
        "credited",
        58,
        "awaiting_funding",
        None,
    )
    assert "wait until a sponsor's budget funds them" in seen["explanation"]["rules"][-1]["message"]
    assert account(linked_citizen_client)["points"] == {"available": 0, "pending": 0}
    assert account(linked_citizen_client)["reduction_g"] == 584  # the reduction counts at once
    assert ledger_check().ok
    portal = Client(HTTP_ACCEPT_LANGUAGE="en")
    portal.force_login(ActionRecord.objects.get(external_id="early").account.user)
    assert "58 more owed: they wait for a sponsor" in portal.get("/me/").content.decode()

    budget = BudgetFactory(sponsor__name="City")
    page = reverse("admin:budgets_budget_deposit", args=[budget.pk])
    assert b'name="points"' in operator_client.get(page).content
    refused = operator_client.post(page, {"points": 0, "yuan": "10"})
    assert refused.status_code == 200 and b"errorlist" in refused.content
    with django_capture_on_commit_callbacks(execute=True):
        done = operator_client.post(
            page, {"points": 10_000, "yuan": "100.00", "note": "first tranche"}
        )
    assert done.status_code == 302

    seen = my_action(linked_citizen_client, "early")
    assert (seen["points_status"], seen["sponsor"]) == ("available", "City")
    assert account(linked_citizen_client)["points"]["available"] == 58
    assert left(budget) == 10_000 - 58
    deposit = budget.deposits.get()
    assert (deposit.points, deposit.yuan_fen, deposit.made_by) == (10_000, 10_000, operator)
    assert AuditEntry.objects.filter(action="budget.deposit", actor_id=operator.pk).exists()
    assert ledger_check().ok


@pytest.mark.unfunded
def test_a_pending_throttle_holds_new_credits_until_the_budget_is_topped_up(
    metro, linked_citizen_client, operator, django_capture_on_commit_callbacks
):
    from carbonpoints.budgets.services import budget_deposit

    city = funded_budget(
        points=1000,
        sponsor__name="City",
        throttle=Budget.Throttle.PENDING,
        warn_below_percent=90,
        throttle_below_percent=80,
    )
    metro.send(
        event(external_id="first", quantity=80)
    )  # 373 points: 62.7 % left, throttled from now on
    metro.send(event(external_id="second", quantity=10))  # waits, although the budget holds 627

    assert my_action(linked_citizen_client, "second")["points_status"] == "awaiting_funding"
    assert left(city) == 627
    with django_capture_on_commit_callbacks(execute=True):
        budget_deposit(budget=city, points=9000, yuan_fen=9000, operator=operator)
    assert my_action(linked_citizen_client, "second")["points_status"] == "available"
    assert left(city) == 627 + 9000 - ActionRecord.objects.get(external_id="second").points


def test_a_reversed_credit_gives_its_points_back_to_its_budget(
    metro, linked_citizen_client, operator, _city_budget
):
    before = left(_city_budget)
    metro.send(event(external_id="ride", quantity="12.5"))

    action_reverse(
        record=ActionRecord.objects.get(external_id="ride"), operator=operator, reason="fraud"
    )

    assert left(_city_budget) == before
    assert account(linked_citizen_client)["points"]["available"] == 0
    assert ledger_check().ok


@pytest.mark.unfunded
def test_a_reversed_credit_that_waited_is_never_funded(
    metro, linked_citizen_client, operator, django_capture_on_commit_callbacks
):
    metro.send(event(external_id="ride", quantity="12.5"))
    action_reverse(
        record=ActionRecord.objects.get(external_id="ride"), operator=operator, reason="fraud"
    )

    with django_capture_on_commit_callbacks(execute=True):
        city = funded_budget(points=1000, sponsor__name="City")

    assert left(city) == 1000
    assert account(linked_citizen_client)["points"] == {"available": 0, "pending": 0}
    assert ledger_check().ok


@pytest.mark.unfunded
def test_a_budget_not_yet_in_force_funds_nothing(metro, linked_citizen_client):
    now = timezone.now()
    later = funded_budget(
        points=1000, starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=30)
    )

    metro.send(event(external_id="ride"))

    assert my_action(linked_citizen_client, "ride")["points_status"] == "awaiting_funding"
    assert left(later) == 1000


@pytest.mark.unfunded
def test_a_corrected_credit_that_waits_again_is_funded_again(
    metro, linked_citizen_client, operator, django_capture_on_commit_callbacks
):
    from decimal import Decimal

    from carbonpoints.budgets.services import budget_deposit
    from carbonpoints.earn.corrections import action_correct

    metro.send(event(external_id="ride", quantity="12.5"))  # 58 points owed
    with django_capture_on_commit_callbacks(execute=True):
        city = funded_budget(points=58, sponsor__name="City")  # funds exactly them
    assert my_action(linked_citizen_client, "ride")["points_status"] == "available"

    # 25 km earn 116 points; the 58 given back leave the budget short: the corrected credit waits
    action_correct(
        record=ActionRecord.objects.get(external_id="ride"),
        quantity=Decimal(25),
        operator=operator,
        reason="odometer re-read",
    )
    assert my_action(linked_citizen_client, "ride")["points_status"] == "awaiting_funding"
    with django_capture_on_commit_callbacks(execute=True):
        budget_deposit(budget=city, points=1000, yuan_fen=1000, operator=operator)

    assert account(linked_citizen_client)["points"]["available"] == 116
    assert left(city) == 58 + 1000 - 116
    assert ledger_check().ok
