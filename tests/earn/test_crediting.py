"""Verified reductions are credited in grams and points, with remainders carried, idempotently."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from carbonpoints.earn import tasks
from carbonpoints.ledger.models import LedgerAccount, LedgerTransaction
from carbonpoints.ledger.selectors import ledger_check
from tests.factories import accruals_posted

from .factories import event

pytestmark = pytest.mark.django_db


def account(client) -> dict:
    return client.get("/api/v1/me/account").json()


def test_a_metro_ride_becomes_grams_and_points_on_the_citizens_account(
    metro, linked_citizen_client
):
    sent = metro.send(event(external_id="ride-1", quantity="12.5"))

    assert sent.status_code == 202, sent.content
    assert sent.json()["results"] == [
        {"external_id": "ride-1", "status": "accepted", "state": "credited"}
    ]
    mine = account(linked_citizen_client)
    # 12.5 km × 46.7 g/km = 583.75 → 584 g; 58 points, 4 g carried
    assert mine["reduction_g"] == 584
    assert mine["points"] == {"available": 58, "pending": 0}
    status = metro.batch(sent.json()["batch_id"])
    assert status["credited"] == 1 and status["pending"] == 0 and status["complete"] is True
    assert ledger_check().ok


def test_sub_point_remainders_are_carried_not_lost(metro, linked_citizen_client):
    # 3 rides of 1 km: 47 g each (46.7 rounded half-even), 141 g in all → 14 points, 1 g carried
    metro.send(
        *[event(quantity=1, occurred_at=timezone.now() - timedelta(hours=h)) for h in (1, 2, 3)]
    )

    mine = account(linked_citizen_client)
    assert mine["reduction_g"] == 141
    assert mine["points"]["available"] == 14
    actions = linked_citizen_client.get("/api/v1/me/actions").json()["results"]
    assert sorted(a["points"] for a in actions) == [4, 5, 5]


def test_the_claim_on_the_same_grams_goes_to_the_pool_of_its_methodology_and_month(
    metro, linked_citizen_client
):
    occurred = timezone.localtime(timezone.now() - timedelta(hours=1))
    metro.send(event(quantity=10, occurred_at=occurred))

    pool = LedgerAccount.objects.get(
        kind="pool_metro_ride", owner_id=occurred.year * 100 + occurred.month
    )
    assert pool.balance == 467
    accruals_posted()
    assert LedgerAccount.objects.get(kind="citizen_reduction").balance == 467


def test_reprocessing_a_batch_changes_nothing(metro, linked_citizen_client):
    batch_id = metro.send(event(quantity=10), event(quantity=3)).json()["batch_id"]
    before = (account(linked_citizen_client), LedgerTransaction.objects.count())

    for task in (
        tasks.process_batch,
        tasks.resume_batch,
        tasks.quantify_batch,
        tasks.verify_batch,
        tasks.credit_batch,
    ):
        task.delay(batch_id)

    assert (account(linked_citizen_client), LedgerTransaction.objects.count()) == before


@override_settings(EARN_SETTLING_DAYS=7)
def test_with_a_settling_period_points_are_pending_until_settled(metro, linked_citizen_client):
    metro.send(event(quantity=10))
    assert account(linked_citizen_client)["points"] == {"available": 0, "pending": 46}

    tasks.settle_points.delay()
    assert account(linked_citizen_client)["points"] == {"available": 0, "pending": 46}, (
        "not yet due"
    )

    from carbonpoints.earn.models import ActionRecord

    ActionRecord.objects.update(points_available_at=timezone.now() - timedelta(seconds=1))
    tasks.settle_points.delay()
    tasks.settle_points.delay()
    assert account(linked_citizen_client)["points"] == {"available": 46, "pending": 0}
    call_command("ledger_check")
