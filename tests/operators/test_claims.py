"""Claims for missing records: a citizen files one with evidence, the partner hears of it (poll or
signed webhook) and confirms (a record through the normal intake) or denies (the citizen reads
why); self-reports earn the reduced rate where the scene allows; operators see overdue claims."""

import hashlib
import io
import json
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from carbonpoints.claims.models import Claim, PartnerWebhook
from carbonpoints.claims.selectors import claims_overdue
from carbonpoints.claims.services import WebhookFailed, claim_webhook_send
from carbonpoints.claims.tasks import sweep_webhooks
from carbonpoints.earn.signing import signature
from tests.earn.conftest import PartnerClient
from tests.earn.factories import partner_with_key
from tests.factories import CitizenFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def receipt(name="receipt.png", kind="PNG") -> SimpleUploadedFile:
    data = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(data, kind)
    return SimpleUploadedFile(name, data.getvalue(), content_type=f"image/{kind.lower()}")


def file_claim(client, partner, **fields):
    body = {
        "partner_id": partner.pk,
        "action": "metro_ride",
        "quantity": "12",
        "occurred_at": (timezone.now() - timedelta(days=2)).isoformat(),
        "evidence": receipt(),
        **fields,
    }
    return client.post("/api/v1/me/claims", body, format="multipart")


def test_a_confirmed_claim_becomes_a_credited_record_once(linked_citizen_client, metro):
    filed = file_claim(linked_citizen_client, metro.partner, note="card reader was down")
    assert filed.status_code == 201, filed.content
    assert filed.json()["status"] == "pending"

    queue = metro.get("/api/v1/partner/claims").json()
    assert [(c["id"], c["subject"], c["quantity"], c["note"]) for c in queue] == [
        (filed.json()["id"], "member-1", "12", "card reader was down")
    ]
    evidence = metro.get(queue[0]["evidence_path"])
    assert evidence.status_code == 200 and evidence["Content-Type"] == "image/png"

    confirmed = metro.request("POST", f"/api/v1/partner/claims/{queue[0]['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["record_state"] == "credited"
    again = metro.request("POST", f"/api/v1/partner/claims/{queue[0]['id']}/confirm")
    assert again.status_code == 409 and again.json()["error"]["code"] == "claim_already_decided"

    record = metro.record(queue[0]["external_id"])
    assert (
        record["explanation"]["credited_g"] == 560
    )  # 12 km × 46.7 g, as if the partner had sent it
    mine = linked_citizen_client.get("/api/v1/me/claims").json()
    assert (mine[0]["status"], mine[0]["record_state"]) == ("confirmed", "credited")
    assert metro.get("/api/v1/partner/claims").json() == []


def test_a_denied_claim_is_explained_to_the_citizen(linked_citizen_client, metro, client, citizen):
    claim_id = file_claim(linked_citizen_client, metro.partner).json()["id"]

    denied = metro.request(
        "POST",
        f"/api/v1/partner/claims/{claim_id}/deny",
        json.dumps({"reason": "No tap-in at that station that day."}).encode(),
    )

    assert denied.status_code == 200, denied.content
    mine = linked_citizen_client.get("/api/v1/me/claims").json()[0]
    assert (mine["status"], mine["denial_reason"], mine["record_state"]) == (
        "denied",
        "No tap-in at that station that day.",
        None,
    )
    client.force_login(citizen)
    assert "No tap-in at that station that day." in client.get("/me/claims/").content.decode()


def test_another_partner_cannot_see_or_answer_the_claim(
    linked_citizen_client, metro, django_capture_on_commit_callbacks
):
    claim_id = file_claim(linked_citizen_client, metro.partner).json()["id"]
    other = PartnerClient(partner_with_key(name="Other"), django_capture_on_commit_callbacks)

    assert other.get("/api/v1/partner/claims").json() == []
    assert other.request("POST", f"/api/v1/partner/claims/{claim_id}/confirm").status_code == 404


@pytest.mark.parametrize(
    ("evidence", "max_bytes"),
    [
        (SimpleUploadedFile("receipt.png", b"not an image at all", content_type="image/png"), None),
        (None, 20),  # a real image, but larger than allowed
        (
            SimpleUploadedFile(
                "receipt.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", content_type="image/gif"
            ),
            None,
        ),
    ],
)
def test_evidence_is_checked_by_type_and_size(
    linked_citizen_client, metro, settings, evidence, max_bytes
):
    if max_bytes:
        settings.CLAIMS_EVIDENCE_MAX_BYTES = max_bytes
    response = file_claim(linked_citizen_client, metro.partner, evidence=evidence or receipt())
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_evidence"
    assert not Claim.objects.exists()


def test_a_claim_needs_a_link_at_the_partner_and_a_past_time(linked_citizen_client, metro):
    unlinked = APIClient()
    unlinked.force_authenticate(CitizenFactory())
    assert file_claim(unlinked, metro.partner).json()["error"]["code"] == "not_linked"
    future = file_claim(
        linked_citizen_client,
        metro.partner,
        occurred_at=(timezone.now() + timedelta(days=1)).isoformat(),
    )
    assert future.json()["error"]["code"] == "invalid_occurred_at"


def test_a_self_report_earns_the_reduced_rate_where_the_scene_allows_it(
    citizen_client, link, django_capture_on_commit_callbacks
):
    recycler = PartnerClient(
        partner_with_key(name="Recycler", actions=["recycling", "metro_ride"]),
        django_capture_on_commit_callbacks,
    )
    assert link(citizen_client, recycler.partner, "r-1").status_code == 201

    response = file_claim(
        citizen_client, recycler.partner, action="recycling", quantity="2", self_reported="true"
    )
    refused = file_claim(
        citizen_client, recycler.partner, action="metro_ride", self_reported="true"
    )

    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["record_state"]) == ("taken_in", "credited")
    record = recycler.record(f"claim-{response.json()['id']}")["explanation"]
    assert record["credited_g"] == 500  # 2 kg × 500 g × 0.5
    assert refused.json()["error"]["code"] == "self_report_not_allowed"


class _Partner(BaseHTTPRequestHandler):
    answers: list[int] = []
    received: list[tuple[dict, bytes]] = []

    def do_POST(self):  # noqa: N802  (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.headers, body))  # case-insensitive, as HTTP headers are
        self.send_response(type(self).answers.pop(0))
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def partner_server():
    server = HTTPServer(("127.0.0.1", 0), _Partner)  # a port the system has free
    _Partner.answers, _Partner.received = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_partner_hears_of_a_claim_by_a_signed_webhook_retried_until_it_answers(
    linked_citizen_client, metro, partner_server, django_capture_on_commit_callbacks
):
    url = f"http://127.0.0.1:{partner_server.server_port}/hooks/claims?v=1"
    PartnerWebhook.objects.create(partner=metro.partner, url=url)
    _Partner.answers = [503, 200]
    with django_capture_on_commit_callbacks(
        execute=True
    ):  # sent on commit: the partner answers 503
        assert file_claim(linked_citizen_client, metro.partner).status_code == 201
    claim = Claim.objects.get()
    assert claim.webhook_delivered_at is None

    assert sweep_webhooks() == 1  # the sweeper sends it again: 200
    assert sweep_webhooks() == 0  # delivered: not sent again
    with pytest.raises(WebhookFailed):
        _Partner.answers = [500]
        PartnerWebhook.objects.filter(partner=metro.partner).update(url=url)
        Claim.objects.filter(pk=claim.pk).update(webhook_delivered_at=None)
        claim_webhook_send(claim_id=claim.pk)  # a worker's failure is raised, for Celery to retry
    Claim.objects.filter(pk=claim.pk).update(webhook_delivered_at=timezone.now())

    headers, body = _Partner.received[1]
    assert len(_Partner.received) == 3
    assert json.loads(body)["claim"]["external_id"] == f"claim-{claim.pk}"
    expected = signature(
        secret=metro.credentials.secret,
        timestamp=headers["X-CP-Timestamp"],
        method="POST",
        path="/hooks/claims?v=1",
        body=body,
    )
    assert headers["X-CP-Signature"] == expected and headers["X-CP-Key"] == metro.credentials.key_id
    assert headers["X-CP-Body-SHA256"] == hashlib.sha256(body).hexdigest()
    claim.refresh_from_db()
    assert claim.webhook_attempts == 3


def test_operators_see_claims_past_the_partner_deadline(
    linked_citizen_client, metro, client, settings
):
    settings.CLAIMS_PARTNER_DEADLINE_DAYS = 7
    old, recent = (file_claim(linked_citizen_client, metro.partner).json()["id"] for _ in range(2))
    Claim.objects.filter(pk=old).update(created_at=timezone.now() - timedelta(days=8))

    assert [c.pk for c in claims_overdue()] == [old]
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get("/admin/claims/claim/?overdue=yes").content.decode()
    assert (
        f"/admin/claims/claim/{old}/change/" in page
        and f"/admin/claims/claim/{recent}/change/" not in page
    )


def test_a_citizen_files_a_claim_on_the_portal(linked_citizen_client, metro, client, citizen):
    client.force_login(citizen)
    page = client.post(
        "/me/claims/",
        {
            "partner": metro.partner.pk,
            "action": "metro_ride",
            "quantity": "7",
            "occurred_at": (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "evidence": receipt("r.jpg", "JPEG"),
            "note": "",
        },
        follow=True,
    )

    assert page.status_code == 200
    claim = Claim.objects.get()
    assert (claim.quantity, claim.evidence_type, claim.status) == (
        Decimal("7"),
        "image/jpeg",
        "pending",
    )
    assert "waiting for the partner" in page.content.decode()


def test_a_claim_is_held_to_the_methodologys_plausible_quantity_and_shows_its_unit(
    linked_citizen_client, metro, client, citizen
):
    too_far = file_claim(
        linked_citizen_client, metro.partner, quantity="9999"
    )  # km of metro in one ride
    assert too_far.status_code == 400
    assert too_far.json()["error"]["code"] == "quantity_implausible"
    assert too_far.json()["error"]["details"] == {"max": "80", "unit": "km"}
    assert not Claim.objects.exists()

    client.force_login(citizen)
    form = client.get("/me/claims/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "In the action's unit: Bus ride: km (at most 60); Metro ride: km (at most 80)." in form
    refused = client.post(
        "/me/claims/",
        {
            "partner": metro.partner.pk,
            "action": "metro_ride",
            "quantity": "9999",
            "occurred_at": (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "evidence": receipt(),
            "note": "",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "At most 80 km can be claimed for one action." in refused and not Claim.objects.exists()


def test_the_same_action_cannot_be_claimed_twice(linked_citizen_client, metro):
    when = (timezone.now() - timedelta(days=2)).isoformat()
    assert file_claim(linked_citizen_client, metro.partner, occurred_at=when).status_code == 201
    again = file_claim(linked_citizen_client, metro.partner, occurred_at=when)
    assert again.status_code == 409 and again.json()["error"]["code"] == "claim_repeated"
    assert Claim.objects.count() == 1
    other_ride = file_claim(
        linked_citizen_client,
        metro.partner,
        occurred_at=(timezone.now() - timedelta(days=3)).isoformat(),
    )
    assert other_ride.status_code == 201
