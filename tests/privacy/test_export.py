"""PIPL right of access: GET /me/export gives the citizen all of their data, and only theirs."""

import io
import json
import zipfile

import pytest
from rest_framework.test import APIClient

from carbonpoints.privacy.tasks import build_export
from tests.earn.factories import event
from tests.factories import CitizenFactory
from tests.spend.factories import ScenarioFactory, give_points

pytestmark = pytest.mark.django_db


@pytest.fixture
def active_citizen(citizen, citizen_client, metro, link):
    """A citizen with a link (one scene), a credited ride and a voucher."""
    citizen_client.post(
        "/api/v1/me/links",
        {
            "partner_id": metro.partner.pk,
            "subject": "E1",
            "consent": True,
            "scenes": ["metro_ride"],
        },
        format="json",
    )
    metro.send(event(external_id="ride-1", subject="E1"))
    give_points(citizen, 100)
    scenario = ScenarioFactory(points_cost=30)
    assert (
        citizen_client.post(
            "/api/v1/redemptions",
            {"scenario_id": scenario.pk},
            format="json",
            HTTP_IDEMPOTENCY_KEY="k1",
        ).status_code
        == 201
    )
    return citizen


def test_a_small_export_answers_at_once_with_every_section(active_citizen, citizen_client):
    response = citizen_client.get("/api/v1/me/export")

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["profile"]["email"] == active_citizen.email
    assert [(link["partner"], link["subject"], link["scenes"]) for link in data["links"]] == [
        ("Metro", "E1", ["metro_ride"])
    ]
    assert (
        data["consent_history"][0]["kind"] == "granted"
        and "E1" in data["consent_history"][0]["wording"]
    )
    assert [(a["external_id"], a["state"], a["credited_g"]) for a in data["actions"]] == [
        ("ride-1", "credited", 467)
    ]
    # the credit's posting: the credit's own, or the accrual's that the redemption posted first
    assert {row["kind"] for row in data["ledger"]} & {"earn_credit", "citizen_accrual"}
    assert [(r["points_spent"], bool(r["voucher_code"])) for r in data["redemptions"]] == [
        (30, True)
    ]


def test_the_portal_format_is_a_zip_of_csvs(active_citizen, citizen_client):
    response = citizen_client.get("/api/v1/me/export?as=zip")

    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert {"profile.csv", "links.csv", "actions.csv", "ledger.csv", "redemptions.csv"} <= set(
        archive.namelist()
    )
    actions = archive.read("actions.csv").decode("utf-8-sig").splitlines()
    assert actions[0].startswith("id,partner,external_id") and "ride-1" in actions[1]


def test_a_large_export_is_built_by_a_worker_with_progress(
    active_citizen, citizen_client, settings
):
    settings.PRIVACY_EXPORT_SYNC_MAX_ROWS = 1

    response = citizen_client.get("/api/v1/me/export")
    assert response.status_code == 202
    status = response.json()
    assert (status["state"], status["progress_percent"], status["download_url"]) == (
        "pending",
        0,
        None,
    )
    assert citizen_client.get(status["status_url"]).json()["state"] == "pending"
    assert citizen_client.get(f"/api/v1/me/exports/{status['id']}/download").status_code == 409

    assert (
        citizen_client.get("/api/v1/me/export").json()["id"] == status["id"]
    )  # one export at a time

    build_export.delay(status["id"])  # what the worker runs after the request's commit
    ready = citizen_client.get(status["status_url"]).json()
    assert (ready["state"], ready["progress_percent"]) == ("ready", 100)
    document = citizen_client.get(ready["download_url"]).json()
    assert document["actions"][0]["external_id"] == "ride-1"
    assert (
        citizen_client.get(ready["download_url"] + "?as=zip")["Content-Type"] == "application/zip"
    )


def test_another_citizens_data_and_exports_are_invisible(active_citizen, citizen_client, settings):
    other = APIClient()
    other.force_authenticate(CitizenFactory())

    mine = other.get("/api/v1/me/export").json()
    assert (mine["links"], mine["actions"], mine["redemptions"]) == ([], [], [])
    assert active_citizen.email not in json.dumps(mine)

    settings.PRIVACY_EXPORT_SYNC_MAX_ROWS = 0
    export_id = citizen_client.get("/api/v1/me/export").json()["id"]
    assert other.get(f"/api/v1/me/exports/{export_id}").status_code == 404
    assert other.get(f"/api/v1/me/exports/{export_id}/download").status_code == 404


def test_only_citizens_export(api_client):
    assert api_client.get("/api/v1/me/export").status_code == 401
