"""Citizens link partner member ids with consent; unlinked actions wait, then credit or expire."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from carbonpoints.earn import tasks
from carbonpoints.earn.models import ActionRecord, IdentityLink
from tests.factories import CitizenFactory

from .factories import event

pytestmark = pytest.mark.django_db


def test_actions_of_an_unlinked_member_are_held_then_credited_when_the_citizen_links(
    metro, citizen_client, link
):
    batch_id = metro.send(event(external_id="early", subject="M42", quantity=10)).json()["batch_id"]
    held = metro.record("early")
    assert (held["state"], held["reason"]) == ("unlinked", "not_linked")
    assert metro.batch(batch_id)["unlinked"] == 1

    response = link(citizen_client, metro.partner, "M42")

    assert response.status_code == 201, response.content
    assert response.json()["released"] == 1
    assert metro.record("early")["state"] == "credited"
    assert metro.batch(batch_id)["credited"] == 1
    assert citizen_client.get("/api/v1/me/account").json()["reduction_g"] == 467
    rules = [
        r["code"]
        for r in citizen_client.get(f"/api/v1/me/actions/{ActionRecord.objects.get().pk}").json()[
            "explanation"
        ]["rules"]
    ]
    assert rules == ["held_unlinked"]


@override_settings(EARN_UNLINKED_HOLD_DAYS=30)
def test_held_actions_expire_after_the_window_and_are_not_credited_by_a_late_link(
    metro, citizen_client, link
):
    metro.send(event(external_id="old", subject="M43"))
    ActionRecord.objects.update(hold_until=timezone.now() - timedelta(seconds=1))

    assert tasks.expire_unlinked.delay().get() == 1
    record = metro.record("old")
    assert (record["state"], record["reason"]) == ("expired", "link_window_passed")

    assert link(citizen_client, metro.partner, "M43").json()["released"] == 0
    assert citizen_client.get("/api/v1/me/account").json()["reduction_g"] == 0


def test_the_hold_window_is_a_setting(metro, settings):
    settings.EARN_UNLINKED_HOLD_DAYS = 7
    metro.send(event(external_id="h", subject="M44"))
    record = ActionRecord.objects.get(external_id="h")
    assert record.hold_until - record.received_at == timedelta(days=7)


def test_a_link_keeps_the_consent_with_its_time_scope_and_wording(metro, citizen_client, link):
    response = link(citizen_client, metro.partner, "M45")

    body = response.json()
    assert body["actions"] == ["bus_ride", "metro_ride"]
    assert "Metro" in body["consent_wording"] and "M45" in body["consent_wording"]
    stored = IdentityLink.objects.get(pk=body["id"])
    assert stored.partner == metro.partner and stored.scenes == ["bus_ride", "metro_ride"]
    assert stored.consented_at is not None
    assert citizen_client.get("/api/v1/me/links").json()[0]["id"] == body["id"]


def test_linking_needs_consent_and_a_known_partner(metro, citizen_client, link):
    refused = link(citizen_client, metro.partner, "M46", consent=False)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "consent_required"

    unknown = citizen_client.post(
        "/api/v1/me/links", {"partner_id": 999999, "subject": "x", "consent": True}, format="json"
    )
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_partner"


def test_a_member_id_linked_by_someone_else_is_refused(metro, citizen_client, link):
    from rest_framework.test import APIClient

    other = APIClient()
    other.force_authenticate(CitizenFactory())
    assert link(other, metro.partner, "M47").status_code == 201

    response = link(citizen_client, metro.partner, "M47")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "subject_already_linked"


def test_revoking_a_link_stops_future_crediting(metro, citizen_client, link):
    link_id = link(citizen_client, metro.partner, "M48").json()["id"]
    metro.send(event(external_id="before", subject="M48"))

    response = citizen_client.delete(f"/api/v1/me/links/{link_id}")

    assert response.status_code == 200 and response.json()["revoked_at"]
    metro.send(event(external_id="after", subject="M48"))
    assert metro.record("before")["state"] == "credited"
    assert (metro.record("after")["state"], metro.record("after")["reason"]) == (
        "unlinked",
        "not_linked",
    )
    assert citizen_client.get("/api/v1/me/account").json()["reduction_g"] == 467


def test_a_citizen_cannot_revoke_someone_elses_link(metro, citizen_client, link):
    from rest_framework.test import APIClient

    other = APIClient()
    other.force_authenticate(CitizenFactory())
    link_id = link(other, metro.partner, "M49").json()["id"]

    assert citizen_client.delete(f"/api/v1/me/links/{link_id}").status_code == 404
    assert IdentityLink.objects.get(pk=link_id).revoked_at is None
