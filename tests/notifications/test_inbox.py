"""The in-app inbox: workers tell citizens what happened, one notification per kind per run, with counts."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from carbonpoints.notifications.models import Notification
from carbonpoints.notifications.services import notifications_collect
from redemption.models import Voucher
from tests.earn.factories import event
from tests.factories import CitizenFactory
from tests.spend.factories import ScenarioFactory, give_points

pytestmark = pytest.mark.django_db


def _inbox(client) -> dict:
    response = client.get("/api/v1/me/notifications", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, response.content
    return response.json()


def test_credited_capped_and_rejected_actions_are_told_once_with_counts(
    linked_citizen_client, metro, django_assert_max_num_queries
):
    metro.send(
        event(external_id="a"), event(external_id="b"), event(external_id="far", quantity=500)
    )
    metro.send(
        *[event(external_id=f"cap{n}", quantity=60) for n in range(2)]
    )  # the metro's daily cap is 100 km

    with django_assert_max_num_queries(
        16
    ):  # a few statements per collector, whatever the number of records
        counts = notifications_collect()

    assert counts["actions"] == 3
    inbox = _inbox(linked_citizen_client)
    by_kind = {n["kind"]: n for n in inbox["results"]}
    assert inbox["unread"] == 3
    assert (
        by_kind["action_credited"]["count"] == 3
        and by_kind["action_credited"]["grams"] == 467 * 2 + 2802
    )
    assert "3 actions credited" in by_kind["action_credited"]["text"]
    assert by_kind["action_capped"]["count"] == 1
    assert by_kind["action_rejected"]["count"] == 1
    assert notifications_collect()["actions"] == 0  # the watermark moved on: nothing told twice


def test_a_record_still_in_the_pipeline_holds_the_watermark(linked_citizen_client, metro):
    from carbonpoints.earn.models import ActionRecord

    metro.send(event(external_id="a"), event(external_id="b"))
    first = ActionRecord.objects.order_by("id").first()
    ActionRecord.objects.filter(pk=first.pk).update(
        state="verified"
    )  # as if a pipeline run were still at it

    assert notifications_collect()["actions"] == 0
    ActionRecord.objects.filter(pk=first.pk).update(state="credited")
    notifications_collect()
    assert _inbox(linked_citizen_client)["results"][0]["count"] == 2


def test_a_record_stuck_in_the_pipeline_for_an_hour_holds_nothing_back(
    linked_citizen_client, metro
):
    from carbonpoints.earn.models import ActionRecord

    metro.send(event(external_id="a"), event(external_id="b"))
    first = ActionRecord.objects.order_by("id").first()
    ActionRecord.objects.filter(pk=first.pk).update(
        state="verified", received_at=timezone.now() - timedelta(hours=2)
    )

    notifications_collect()

    assert _inbox(linked_citizen_client)["results"][0]["count"] == 1


def test_held_actions_released_on_linking_are_told(citizen_client, metro, link):
    metro.send(event(external_id="early", subject="H1"), event(external_id="early2", subject="H1"))
    link(citizen_client, metro.partner, "H1")

    assert notifications_collect()["released"] == 0  # the release is given time to finish
    notifications_collect(now=timezone.now() + timedelta(minutes=3))

    (released,) = _inbox(citizen_client)["results"]
    assert (released["kind"], released["count"], released["grams"]) == ("held_released", 2, 934)


def test_a_voucher_expiring_within_3_days_is_told_once(citizen, citizen_client):
    give_points(citizen, 100)
    scenario = ScenarioFactory(points_cost=10)
    for key in ("k1", "k2"):
        citizen_client.post(
            "/api/v1/redemptions",
            {"scenario_id": scenario.pk},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
        )
    Voucher.objects.update(expires_at=timezone.now() + timedelta(days=2))

    notifications_collect()
    notifications_collect()

    (expiring,) = _inbox(citizen_client)["results"]
    assert (expiring["kind"], expiring["count"]) == ("voucher_expiring", 2)


def test_an_export_built_by_a_worker_is_told(citizen, citizen_client, settings):
    settings.PRIVACY_EXPORT_SYNC_MAX_ROWS = -1
    from carbonpoints.privacy.tasks import build_export

    build_export.delay(citizen_client.get("/api/v1/me/export").json()["id"])

    assert _inbox(citizen_client)["results"][0]["kind"] == "export_ready"


def test_marking_read_and_another_citizens_inbox_is_invisible(citizen, citizen_client):
    mine = [
        Notification.objects.create(account=citizen.carbon_account, kind="export_ready")
        for _ in range(2)
    ]
    other_user = CitizenFactory()
    theirs = Notification.objects.create(account=other_user.carbon_account, kind="export_ready")

    answer = citizen_client.post(
        "/api/v1/me/notifications/read", {"ids": [mine[0].pk, theirs.pk]}, format="json"
    )

    assert answer.json() == {"unread": 1}
    assert {n["id"] for n in _inbox(citizen_client)["results"]} == {n.pk for n in mine}
    theirs.refresh_from_db()
    assert theirs.read_at is None
    other = APIClient()
    other.force_authenticate(other_user)
    assert [n["id"] for n in _inbox(other)["results"]] == [theirs.pk]
    assert citizen_client.post("/api/v1/me/notifications/read", {}, format="json").json() == {
        "unread": 0
    }
    assert _inbox(citizen_client)["count"] == 2
    assert citizen_client.get("/api/v1/me/notifications?unread=true").json()["count"] == 0


def test_the_portal_inbox_shows_the_badge_and_marks_read(citizen):
    Notification.objects.create(
        account=citizen.carbon_account, kind="action_credited", count=2, grams=1500, points=150
    )
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(citizen)

    page = browser.get("/me/notifications/").content.decode()
    assert (
        'id="unread-badge">1<' in page and "2 actions credited: 1.50 kg CO2e, 150 points." in page
    )

    browser.post("/me/notifications/read")
    assert 'id="unread-badge"' not in browser.get("/me/notifications/").content.decode()
