"""Verification rules: caps (partly counted), plausibility, duplicate trips and operators' review."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from carbonpoints.earn.models import ActionRecord, ReviewDecision
from carbonpoints.ledger.selectors import ledger_check
from carbonpoints.methodologies.models import Methodology
from tests.factories import UserFactory

from .factories import event

pytestmark = pytest.mark.django_db


def morning(hour: int, days_ago: int = 1):
    day = timezone.localtime(timezone.now()) - timedelta(days=days_ago)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def test_the_daily_cap_counts_the_excess_in_part_and_records_it(metro, linked_citizen_client):
    # daily cap for metro: 100 km; 60 + 60 km the same day → the second counts 40 km
    response = metro.send(
        event(external_id="m1", quantity=60, occurred_at=morning(8)),
        event(external_id="m2", quantity=60, occurred_at=morning(18)),
        event(external_id="m3", quantity=10, occurred_at=morning(9, days_ago=2)),
    )

    status = metro.batch(response.json()["batch_id"])
    assert status["credited"] == 3 and status["capped"] == 1
    second = metro.record("m2")
    assert (
        second["state"] == "credited" and second["reason"] == "capped" and second["capped"] is True
    )
    assert second["explanation"]["counted_quantity"] == "40"
    assert second["explanation"]["credited_g"] == 1868  # 40 × 46.7
    assert [r["code"] for r in second["explanation"]["rules"]] == ["daily_cap", "partly_counted"]
    account = linked_citizen_client.get("/api/v1/me/account").json()
    assert account["reduction_g"] == 2802 + 1868 + 467


def test_once_the_cap_is_reached_later_records_count_nothing_but_are_kept(
    metro, linked_citizen_client
):
    metro.send(
        event(external_id="full", quantity=80, occurred_at=morning(8)),
        event(external_id="more", quantity=30, occurred_at=morning(10)),
    )
    metro.send(event(external_id="late", quantity=5, occurred_at=morning(20)))

    late = metro.record("late")
    assert late["state"] == "credited" and late["capped"] is True
    assert late["explanation"]["credited_g"] == 0 and late["explanation"]["points"] == 0
    assert ActionRecord.objects.get(external_id="more").counted_quantity == Decimal(20)
    assert ledger_check().ok


def test_a_monthly_cap_set_as_data_applies(metro, linked_citizen_client):
    Methodology.objects.filter(code="bus_ride").update(monthly_cap=Decimal(50))
    now = timezone.localtime(timezone.now())
    days = [now - timedelta(days=d) for d in range(1, 4)]
    if len({(d.year, d.month) for d in days}) > 1:  # keep all three rides in one month
        days = [now - timedelta(hours=h) for h in (1, 2, 3)]
    metro.send(
        *[
            event(external_id=f"bus-{i}", action="bus_ride", quantity=20, occurred_at=d)
            for i, d in enumerate(sorted(days))
        ]
    )

    counted = sorted(ActionRecord.objects.values_list("counted_quantity", flat=True))
    assert counted == [Decimal(10), Decimal(20), Decimal(20)]
    assert metro.record("bus-2")["explanation"]["rules"][0]["code"] == "monthly_cap"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"quantity": 81}, "quantity_implausible"),
        ({"occurred_at": timedelta(minutes=30)}, "occurred_in_future"),
        ({"occurred_at": -timedelta(days=61)}, "too_old"),
    ],
)
def test_implausible_records_are_rejected_with_a_reason(
    metro, linked_citizen_client, overrides, code
):
    if (
        "occurred_at" in overrides
    ):  # an offset from the suite's clock (parameters are made before it)
        overrides = {"occurred_at": timezone.now() + overrides["occurred_at"]}
    metro.send(event(external_id="odd", **overrides))

    record = metro.record("odd")
    assert (record["state"], record["reason"]) == ("rejected", code)
    assert record["reason_message"]
    assert linked_citizen_client.get("/api/v1/me/account").json()["reduction_g"] == 0


def test_a_small_clock_skew_is_tolerated(metro, linked_citizen_client):
    metro.send(event(external_id="skew", occurred_at=timezone.now() + timedelta(seconds=60)))
    assert metro.record("skew")["state"] == "credited"


def test_a_bike_ride_faster_than_25_kmh_is_rejected(bikes, citizen_client, link):
    link(citizen_client, bikes.partner, "rider")
    bikes.send(
        event(
            external_id="fast",
            subject="rider",
            action="bike_ride",
            quantity=10,
            attributes={"duration_s": 900},
        ),  # 40 km/h
        event(
            external_id="fine",
            subject="rider",
            action="bike_ride",
            quantity=3,
            attributes={"duration_s": 900},
        ),
    )  # 12 km/h

    assert bikes.record("fast")["reason"] == "speed_implausible"
    assert bikes.record("fine")["state"] == "credited"


def test_a_receipt_must_be_one_per_record(
    db, django_capture_on_commit_callbacks, citizen_client, link
):
    from .conftest import PartnerClient
    from .factories import partner_with_key

    shop = PartnerClient(
        partner_with_key(actions=["e_receipt"]), django_capture_on_commit_callbacks
    )
    link(citizen_client, shop.partner, "buyer")
    shop.send(
        event(external_id="r2", subject="buyer", action="e_receipt", quantity=2, unit="receipts"),
        event(external_id="r1", subject="buyer", action="e_receipt", quantity=1, unit="receipts"),
    )

    assert shop.record("r2")["reason"] == "quantity_not_allowed"
    assert shop.record("r1")["explanation"]["credited_g"] == 3


def _overlapping_rides(metro, bikes, citizen_client, link):
    link(citizen_client, metro.partner, "m-7")
    link(citizen_client, bikes.partner, "b-7")
    start = timezone.now() - timedelta(hours=2)
    metro.send(
        event(external_id="trip", subject="m-7", occurred_at=start, attributes={"duration_s": 1800})
    )
    bikes.send(
        event(
            external_id="trip-b",
            subject="b-7",
            occurred_at=start + timedelta(minutes=10),
            attributes={"duration_s": 1200},
        )
    )


def test_the_same_trip_from_two_partners_is_flagged_for_review(metro, bikes, citizen_client, link):
    _overlapping_rides(metro, bikes, citizen_client, link)

    assert metro.record("trip")["state"] == "credited"
    flagged = bikes.record("trip-b")
    assert (flagged["state"], flagged["reason"]) == ("flagged", "possible_duplicate_trip")
    assert citizen_client.get("/api/v1/me/account").json()["reduction_g"] == 467


def test_operators_approve_a_flagged_record_in_the_admin_and_it_is_credited(
    metro, bikes, citizen_client, link, client, django_capture_on_commit_callbacks
):
    _overlapping_rides(metro, bikes, citizen_client, link)
    operator = UserFactory(is_staff=True, is_superuser=True, role="operator")
    client.force_login(operator)
    record = ActionRecord.objects.get(external_id="trip-b")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:earn_actionrecord_changelist"),
            {"action": "approve", "_selected_action": [record.pk]},
        )

    assert response.status_code == 302
    assert bikes.record("trip-b")["state"] == "credited"
    assert citizen_client.get("/api/v1/me/account").json()["reduction_g"] == 934
    decision = ReviewDecision.objects.get(record=record)
    assert (decision.operator, decision.decision, decision.previous_state) == (
        operator,
        "approved",
        "flagged",
    )


def test_operators_reject_a_flagged_record_with_an_audit_row(
    metro, bikes, citizen_client, link, client
):
    _overlapping_rides(metro, bikes, citizen_client, link)
    operator = UserFactory(is_staff=True, is_superuser=True, role="operator")
    client.force_login(operator)
    record = ActionRecord.objects.get(external_id="trip-b")

    client.post(
        reverse("admin:earn_actionrecord_changelist"),
        {"action": "reject", "_selected_action": [record.pk]},
    )

    assert (bikes.record("trip-b")["state"], bikes.record("trip-b")["reason"]) == (
        "rejected",
        "rejected_on_review",
    )
    assert ReviewDecision.objects.get(record=record).decision == "rejected"


def test_the_flagged_queue_and_a_record_render_in_the_admin(
    metro, bikes, citizen_client, link, client
):
    _overlapping_rides(metro, bikes, citizen_client, link)
    client.force_login(UserFactory(is_staff=True, is_superuser=True, role="operator"))
    record = ActionRecord.objects.get(external_id="trip-b")

    queue = client.get(reverse("admin:earn_actionrecord_changelist") + "?state__exact=flagged")
    page = client.get(reverse("admin:earn_actionrecord_change", args=[record.pk]))

    assert queue.status_code == 200 and b"trip-b" in queue.content
    assert page.status_code == 200 and b"possible_duplicate_trip" in page.content


@override_settings(EARN_DUPLICATE_TOLERANCE_S=0)
def test_trips_far_apart_are_not_duplicates(metro, bikes, citizen_client, link):
    link(citizen_client, metro.partner, "m-8")
    link(citizen_client, bikes.partner, "b-8")
    metro.send(
        event(
            external_id="t1",
            subject="m-8",
            occurred_at=timezone.now() - timedelta(hours=5),
            attributes={"duration_s": 600},
        )
    )
    bikes.send(
        event(external_id="t2", subject="b-8", occurred_at=timezone.now() - timedelta(hours=2))
    )

    assert bikes.record("t2")["state"] == "credited"


@pytest.mark.django_db(transaction=True)
def test_caps_hold_when_two_partners_send_the_same_citizens_rides_at_once(
    metro, bikes, citizen_client, link
):
    from tests.concurrency import run_at_once

    link(citizen_client, metro.partner, "m-9")
    link(citizen_client, bikes.partner, "b-9")
    sends = [
        (
            metro,
            [
                event(external_id=f"m{i}", subject="m-9", quantity=20, occurred_at=morning(6 + i))
                for i in range(4)
            ],
        ),
        (
            bikes,
            [
                event(external_id=f"b{i}", subject="b-9", quantity=20, occurred_at=morning(12 + i))
                for i in range(4)
            ],
        ),
    ]
    answers = run_at_once(2, lambda n: sends[n][0].send(*sends[n][1]).status_code)

    assert answers == [202, 202]
    assert (
        sum(ActionRecord.objects.values_list("counted_quantity", flat=True)) == 100
    )  # the daily cap
    assert citizen_client.get("/api/v1/me/account").json()["reduction_g"] == 4670
    assert ledger_check().ok


def test_an_action_that_reduces_nothing_under_its_methodology_is_rejected(
    metro, linked_citizen_client
):
    Methodology.objects.filter(code="bus_ride").update(project_g_per_unit=Decimal("30"))
    metro.send(event(external_id="worse", action="bus_ride", quantity=5))

    assert (metro.record("worse")["state"], metro.record("worse")["reason"]) == (
        "rejected",
        "no_reduction",
    )
    assert linked_citizen_client.get("/api/v1/me/account").json()["reduction_g"] == 0
