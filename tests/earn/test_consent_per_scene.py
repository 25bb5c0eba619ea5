"""A link's consent names the scenes (action types) it covers; changes are kept with time and wording."""

import pytest

from carbonpoints.earn.models import ConsentChange

from .factories import event

pytestmark = pytest.mark.django_db


def _link(client, partner, subject, **body):
    return client.post(
        "/api/v1/me/links",
        {"partner_id": partner.pk, "subject": subject, "consent": True, **body},
        format="json",
    )


def test_a_citizen_consents_to_some_scenes_and_the_link_shows_them(metro, citizen_client):
    response = _link(citizen_client, metro.partner, "S1", scenes=["metro_ride"])

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["scenes"] == ["metro_ride"] and body["actions"] == ["metro_ride"]
    assert "Metro ride" in body["consent_wording"] and "Bus ride" not in body["consent_wording"]
    assert [(c["kind"], c["scenes"]) for c in body["history"]] == [("granted", ["metro_ride"])]
    assert citizen_client.get("/api/v1/me/links").json()[0]["scenes"] == ["metro_ride"]


def test_omitting_scenes_consents_to_every_approved_scene(metro, citizen_client):
    body = _link(citizen_client, metro.partner, "S2").json()

    assert body["scenes"] == ["bus_ride", "metro_ride"]


def test_scenes_the_partner_is_not_approved_for_are_refused(metro, citizen_client):
    response = _link(citizen_client, metro.partner, "S3", scenes=["metro_ride", "ev_charging"])

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "scenes_not_approved" and error["details"]["scenes"] == ["ev_charging"]
    assert _link(citizen_client, metro.partner, "S3", scenes=[]).status_code == 400


def test_a_record_of_a_scene_without_consent_is_not_credited_and_says_why(metro, citizen_client):
    _link(citizen_client, metro.partner, "S4", scenes=["metro_ride"])

    metro.send(
        event(external_id="m", subject="S4", action="metro_ride"),
        event(external_id="b", subject="S4", action="bus_ride", quantity=5),
    )

    assert metro.record("m")["state"] == "credited"
    bus = metro.record("b")
    assert (bus["state"], bus["reason"]) == ("unlinked", "no_consent_for_action")
    mine = {a["action"]: a for a in citizen_client.get("/api/v1/me/actions").json()["results"]}
    assert set(mine) == {
        "metro_ride",
        "bus_ride",
    }  # the held ride is the citizen's to see, with the way out
    link_id = citizen_client.get("/api/v1/me/links").json()[0]["id"]
    held = mine["bus_ride"]
    assert (held["state"], held["reason"], held["points"]) == (
        "unlinked",
        "no_consent_for_action",
        None,
    )
    assert (
        held["consent_link"] == f"/api/v1/me/links/{link_id}"
        and mine["metro_ride"]["consent_link"] is None
    )
    assert (
        citizen_client.get(f"/api/v1/me/actions/{held['id']}").json()["reason"]
        == "no_consent_for_action"
    )
    assert citizen_client.get("/api/v1/me/account").json()["reduction_g"] == 467


def test_the_portal_history_lists_a_ride_held_for_consent_with_a_link_to_give_it(
    metro, citizen, citizen_client, client
):
    _link(citizen_client, metro.partner, "S6", scenes=["metro_ride"])
    metro.send(event(external_id="b", subject="S6", action="bus_ride", quantity=5))
    client.force_login(citizen)

    page = client.get("/me/actions/").content.decode()

    assert 'data-action="bus_ride" data-state="unlinked"' in page
    assert (
        "The citizen has not consented to this action type." in page
        and 'class="give-consent"' in page
    )


def test_adding_a_scene_credits_its_held_records_and_the_change_is_kept(
    metro, citizen_client, django_capture_on_commit_callbacks
):
    link_id = _link(citizen_client, metro.partner, "S5", scenes=["metro_ride"]).json()["id"]
    metro.send(event(external_id="b", subject="S5", action="bus_ride", quantity=5))
    assert metro.record("b")["reason"] == "no_consent_for_action"

    with django_capture_on_commit_callbacks(execute=True):
        response = citizen_client.patch(
            f"/api/v1/me/links/{link_id}",
            {"scenes": ["bus_ride", "metro_ride"], "consent": True},
            format="json",
        )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scenes"] == ["bus_ride", "metro_ride"] and body["released"] == 1
    assert metro.record("b")["state"] == "credited"
    assert [(c["kind"], c["scenes"]) for c in body["history"]] == [
        ("granted", ["metro_ride"]),
        ("changed", ["bus_ride", "metro_ride"]),
    ]
    assert "Bus ride" in body["history"][1]["wording"]

    citizen_client.patch(
        f"/api/v1/me/links/{link_id}", {"scenes": ["bus_ride"], "consent": True}, format="json"
    )
    metro.send(event(external_id="m", subject="S5", action="metro_ride"))
    assert metro.record("m")["reason"] == "no_consent_for_action"


def test_changing_scenes_needs_consent_and_a_live_link(metro, citizen_client):
    link_id = _link(citizen_client, metro.partner, "S6").json()["id"]

    refused = citizen_client.patch(
        f"/api/v1/me/links/{link_id}", {"scenes": ["bus_ride"], "consent": False}, format="json"
    )
    assert refused.json()["error"]["code"] == "consent_required"
    citizen_client.delete(f"/api/v1/me/links/{link_id}")
    revoked = citizen_client.patch(
        f"/api/v1/me/links/{link_id}", {"scenes": ["bus_ride"], "consent": True}, format="json"
    )
    assert revoked.status_code == 409 and revoked.json()["error"]["code"] == "link_revoked"
    history = citizen_client.get(f"/api/v1/me/links/{link_id}").json()["history"]
    assert [c["kind"] for c in history] == ["granted", "revoked"]


def test_another_citizens_link_is_invisible(metro, citizen_client):
    from rest_framework.test import APIClient

    from tests.factories import CitizenFactory

    other = APIClient()
    other.force_authenticate(CitizenFactory())
    link_id = _link(other, metro.partner, "S7").json()["id"]

    assert citizen_client.get("/api/v1/me/links").json() == []
    assert citizen_client.get(f"/api/v1/me/links/{link_id}").status_code == 404
    assert (
        citizen_client.patch(
            f"/api/v1/me/links/{link_id}", {"scenes": None, "consent": True}, format="json"
        ).status_code
        == 404
    )
    assert ConsentChange.objects.filter(link_id=link_id).count() == 1


def test_active_links_come_first(metro, citizen_client):
    old = _link(citizen_client, metro.partner, "S8").json()["id"]
    citizen_client.delete(f"/api/v1/me/links/{old}")
    new = _link(citizen_client, metro.partner, "S9").json()["id"]

    listed = citizen_client.get("/api/v1/me/links").json()

    assert [(link["id"], link["revoked_at"] is None) for link in listed] == [
        (new, True),
        (old, False),
    ]
