"""A citizen's confirmed claim and the partner's own event for the same action are not both
credited: whichever arrives second is flagged for review (``possible_duplicate_claim``)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from carbonpoints.earn.models import ActionRecord
from carbonpoints.earn.services import record_review
from carbonpoints.ledger.selectors import ledger_check
from tests.earn.conftest import PartnerClient
from tests.earn.factories import event, partner_with_key
from tests.operators.test_claims import file_claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def when():
    return (timezone.now() - timedelta(hours=2)).replace(microsecond=0)


def confirm_claim(citizen_client, partner_client, occurred_at, quantity="12") -> dict:
    filed = file_claim(
        citizen_client,
        partner_client.partner,
        quantity=quantity,
        occurred_at=occurred_at.isoformat(),
    )
    assert filed.status_code == 201, filed.content
    confirmed = partner_client.request(
        "POST", f"/api/v1/partner/claims/{filed.json()['id']}/confirm"
    )
    assert confirmed.status_code == 200, confirmed.content
    return confirmed.json()


def reduction(citizen_client) -> int:
    return citizen_client.get("/api/v1/me/account").json()["reduction_g"]


def test_the_partners_event_after_a_confirmed_claim_is_flagged_not_credited(
    linked_citizen_client, metro, operator, when, django_capture_on_commit_callbacks
):
    claim = confirm_claim(linked_citizen_client, metro, when)
    assert claim["record_state"] == "credited" and reduction(linked_citizen_client) == 560

    sent = metro.send(
        event(
            external_id="ride-77",
            quantity=12,
            occurred_at=when + timedelta(minutes=1),
            attributes={"duration_s": 1800},
        )
    )

    ride = metro.record("ride-77")
    assert (ride["state"], ride["reason"]) == ("flagged", "possible_duplicate_claim")
    in_english = metro.get(
        "/api/v1/partner/events/ride-77", extra_headers={"HTTP_ACCEPT_LANGUAGE": "en"}
    ).json()
    assert in_english["explanation"]["rules"][-1]["message"] == (
        f"Flagged for review: a claim and a record of the same partner overlap in time for the same kind of action "
        f"({claim['external_id']}); possibly one action counted twice."
    )
    assert (
        in_english["reason_message"]
        == "Possible duplicate: a claim and a record of the partner for the same action."
    )
    assert ride["reason_message"] == "可能重复：同一行为既有补录申请，又有合作方的上报记录。", (
        "zh-hans by default"
    )
    assert metro.batch(sent.json()["batch_id"])["flagged"] == 1
    assert reduction(linked_citizen_client) == 560, "counted once"

    with django_capture_on_commit_callbacks(execute=True):
        record_review(
            record=ActionRecord.objects.get(external_id="ride-77"), operator=operator, approve=True
        )

    assert metro.record("ride-77")["state"] == "credited", (
        "an operator who finds two actions credits both"
    )
    assert reduction(linked_citizen_client) == 1120
    assert ledger_check().ok


def test_a_claim_confirmed_after_the_partners_own_event_is_flagged_not_credited(
    linked_citizen_client, metro, when
):
    metro.send(
        event(external_id="ride-77", quantity=12, occurred_at=when, attributes={"duration_s": 1500})
    )
    assert (
        metro.record("ride-77")["state"] == "credited" and reduction(linked_citizen_client) == 560
    )

    claim = confirm_claim(linked_citizen_client, metro, when + timedelta(minutes=10))

    assert claim["record_state"] == "flagged"
    record = metro.record(claim["external_id"])
    assert record["reason"] == "possible_duplicate_claim"
    assert "ride-77" in record["explanation"]["rules"][-1]["message"]
    assert reduction(linked_citizen_client) == 560
    mine = linked_citizen_client.get("/api/v1/me/claims").json()[0]
    assert mine["record_state"] == "flagged"
    seen = linked_citizen_client.get(
        f"/api/v1/me/actions/{ActionRecord.objects.get(external_id=claim['external_id']).pk}"
    )
    assert seen.json()["state"] == "flagged" and "补录申请" in seen.json()["reason_message"]
    assert ledger_check().ok


def test_actions_apart_in_time_and_the_partners_own_overlapping_events_are_credited(
    linked_citizen_client, metro, when
):
    confirm_claim(linked_citizen_client, metro, when)

    metro.send(
        event(external_id="later", quantity=12, occurred_at=when + timedelta(minutes=30)),
        event(
            external_id="a",
            quantity=2,
            occurred_at=when - timedelta(hours=1),
            attributes={"duration_s": 600},
        ),
        event(external_id="b", quantity=2, occurred_at=when - timedelta(hours=1, minutes=-1)),
    )

    assert [metro.record(x)["state"] for x in ("later", "a", "b")] == ["credited"] * 3, (
        "not a claim's time; two events of the partner itself are its own business"
    )


def test_another_partners_trip_still_flags_as_a_duplicate_trip(
    linked_citizen_client, metro, bikes, link, when
):
    assert link(linked_citizen_client, bikes.partner, "bike-member").status_code == 201
    confirm_claim(linked_citizen_client, metro, when)

    bikes.send(event(external_id="bike-1", subject="bike-member", quantity=12, occurred_at=when))

    assert bikes.record("bike-1")["reason"] == "possible_duplicate_trip"


def test_a_self_reported_action_and_the_partners_later_event_are_not_both_credited(
    citizen_client, link, when, django_capture_on_commit_callbacks
):
    recycler = PartnerClient(
        partner_with_key(name="Recycler", actions=["recycling"]), django_capture_on_commit_callbacks
    )
    assert link(citizen_client, recycler.partner, "r-1").status_code == 201
    reported = file_claim(
        citizen_client,
        recycler.partner,
        action="recycling",
        quantity="2",
        occurred_at=when.isoformat(),
        self_reported="true",
    )
    assert reported.json()["record_state"] == "credited", reported.content

    recycler.send(
        event(
            external_id="bin-9",
            subject="r-1",
            action="recycling",
            unit="kg",
            quantity=2,
            occurred_at=when + timedelta(seconds=40),
        )
    )

    assert recycler.record("bin-9")["reason"] == "possible_duplicate_claim"
    assert reduction(citizen_client) == 500
