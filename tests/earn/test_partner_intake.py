"""Intake of partner events: per-event results in order, duplicates never counted twice."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from carbonpoints.earn.models import ActionRecord
from tests.concurrency import run_at_once

from .factories import event

pytestmark = pytest.mark.django_db


def test_results_come_per_event_in_request_order_and_one_bad_event_spoils_nothing(metro):
    response = metro.send(
        event(external_id="a"),
        event(external_id="b", action="bike_ride"),  # metro is not approved for bikes
        event(external_id="c", quantity=-3),
        {"external_id": "d", "subject": "x"},  # fields missing
        event(external_id="e", action="teleport"),
        event(external_id="f", unit="miles"),
        event(external_id="g", occurred_at="2026-11-01T08:00:00"),  # no offset
        event(external_id="a"),  # repeated in the same request
        event(external_id="h", action="bus_ride", quantity=4),
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["results"] == [
        {"external_id": "a", "status": "accepted", "state": "unlinked", "reason": "not_linked"},
        {"external_id": "b", "status": "rejected", "code": "action_not_approved"},
        {"external_id": "c", "status": "rejected", "code": "invalid_quantity"},
        {"external_id": "d", "status": "rejected", "code": "invalid_event"},
        {"external_id": "e", "status": "rejected", "code": "unknown_action"},
        {"external_id": "f", "status": "rejected", "code": "unit_mismatch"},
        {"external_id": "g", "status": "rejected", "code": "invalid_event"},
        {"external_id": "a", "status": "duplicate"},
        {"external_id": "h", "status": "accepted", "state": "unlinked", "reason": "not_linked"},
    ]
    assert (body["received"], body["duplicates"], body["rejected"]) == (2, 1, 6)
    status = metro.batch(body["batch_id"])
    assert status["events"] == 9 and status["received"] == 2 and status["rejected_at_intake"] == 6
    assert {"external_id": "b", "code": "action_not_approved"} in status["rejections"]


def test_a_resend_is_answered_duplicate_and_counted_once(metro):
    first = metro.send(event(external_id="r1"), event(external_id="r2")).json()
    again = metro.send(event(external_id="r1", quantity=99), event(external_id="r3")).json()

    assert [r["status"] for r in again["results"]] == ["duplicate", "accepted"]
    assert again["duplicates"] == 1
    assert ActionRecord.objects.count() == 3
    assert metro.record("r1")["batch_id"] == first["batch_id"]
    assert metro.record("r1")["quantity"] == "10", "the first version stands"


def _days_ago(days: int) -> str:
    """An ISO instant with Shanghai's offset, ``days`` before the suite's clock."""
    return (timezone.localtime() - timedelta(days=days)).replace(microsecond=0).isoformat()


def test_the_event_is_kept_exactly_as_sent(metro):
    raw = (
        '{"external_id":"raw-1","subject":"m","action":"metro_ride","quantity":7.50,"unit":"km",'
        '"occurred_at":"' + _days_ago(4) + '","attributes":{"车站":"罗湖"},"extra":true}'
    )
    response = metro.request(
        "POST", "/api/v1/partner/events", ('{"events":[' + raw + "]}").encode()
    )

    assert response.json()["results"] == [
        {"external_id": "raw-1", "status": "accepted", "state": "unlinked", "reason": "not_linked"}
    ]
    assert ActionRecord.objects.get(external_id="raw-1").raw == raw


def test_tabs_line_breaks_and_backslashes_are_kept_as_sent(metro):
    raw = (
        '{\n\t"external_id": "tab\\there",\n\t"subject": "C:\\\\member\\n2",\r\n\t"action": "metro_ride",'
        ' "quantity": 3, "unit": "km", "occurred_at": "' + _days_ago(4) + '",'
        ' "attributes": {"note": "back\\\\slash\\ttab"}\n}'
    )
    response = metro.request(
        "POST", "/api/v1/partner/events", ('{"events": [' + raw + "]}").encode()
    )

    assert response.json()["results"] == [
        {
            "external_id": "tab\there",
            "status": "accepted",
            "state": "unlinked",
            "reason": "not_linked",
        }
    ]
    record = ActionRecord.objects.get(external_id="tab\there")
    assert (record.raw, record.subject, record.attributes) == (
        raw,
        "C:\\member\n2",
        {"note": "back\\slash\ttab"},
    )


def test_the_same_external_id_from_two_partners_are_two_records(metro, bikes):
    assert metro.send(event(external_id="same")).json()["received"] == 1
    assert bikes.send(event(external_id="same")).json()["received"] == 1


@pytest.mark.parametrize(
    "body", [b"not json", b'{"events": []}', b'{"events": {}}', b"[]", b'{"other": 1}']
)
def test_a_malformed_body_as_a_whole_is_400(metro, body):
    response = metro.request("POST", "/api/v1/partner/events", body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


def test_more_than_5000_events_is_400(metro):
    response = metro.send(*[event(external_id=f"many-{i}") for i in range(5001)])
    assert response.status_code == 400
    assert ActionRecord.objects.count() == 0


def test_a_body_over_5_mib_is_413(metro):
    body = json.dumps({"events": [event(attributes={"pad": "x" * (5 * 1024 * 1024)})]}).encode()
    response = metro.request("POST", "/api/v1/partner/events", body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_full_batch_of_5000_is_taken_in_one_request(metro):
    response = metro.send(
        *[event(external_id=f"full-{i}", subject=f"s{i % 50}") for i in range(5000)]
    )

    assert response.status_code == 202
    assert response.json()["received"] == 5000
    status = metro.batch(response.json()["batch_id"])
    assert status["unlinked"] == 5000 and status["pending"] == 0


def test_an_unknown_external_id_is_404(metro):
    response = metro.get("/api/v1/partner/events/never-sent")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_partner_sees_only_its_own_batches(metro, bikes):
    batch_id = metro.send(event()).json()["batch_id"]
    assert bikes.get(f"/api/v1/partner/batches/{batch_id}").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_concurrent_resends_of_the_same_events_store_each_once(metro):
    events = [event(external_id=f"c-{i}") for i in range(200)]

    answers = run_at_once(4, lambda _: metro.send(*events).json())

    assert len(answers) == 4
    assert sum(a["received"] for a in answers) == 200
    assert sum(a["duplicates"] for a in answers) == 600
    assert ActionRecord.objects.filter(partner=metro.partner).count() == 200
    for i in range(200):
        statuses = [a["results"][i]["status"] for a in answers]
        assert sorted(statuses) == ["accepted", "duplicate", "duplicate", "duplicate"]


def test_an_external_id_with_a_slash_can_be_looked_up(metro):
    metro.send(event(external_id="2026/11/27-0001"))
    assert metro.record("2026/11/27-0001")["external_id"] == "2026/11/27-0001"


@pytest.mark.django_db(transaction=True)
def test_concurrent_resends_of_a_linked_citizens_events_credit_each_once(
    metro, linked_citizen_client
):
    from carbonpoints.ledger.selectors import ledger_check

    events = [
        event(external_id=f"l-{i}", quantity=1, occurred_at=timezone.now() - timedelta(minutes=i))
        for i in range(50)
    ]

    answers = run_at_once(3, lambda _: metro.send(*events).json())

    assert sorted(a["received"] for a in answers) == [0, 0, 50]
    assert (
        linked_citizen_client.get("/api/v1/me/account").json()["reduction_g"] == 50 * 47
    )  # 46.7 g, rounded
    assert ledger_check().ok
