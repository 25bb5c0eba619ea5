"""Partner signing (docs/design.md#partner-feed): bad, unknown, disabled, stale or replayed: 401."""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from carbonpoints.earn.models import Partner, PartnerKey
from carbonpoints.earn.services import partner_key_rotate, partner_status_set
from carbonpoints.earn.signing import secret_encrypt, signature

from .conftest import PartnerClient
from .factories import PartnerCredentials, event

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs" / "partners.md"


def _worked_example() -> dict:
    """The worked example's values, read from docs/partners.md itself."""
    text = DOCS.read_text()
    section = text.split("## Worked example", 1)[1].split("\n## ", 1)[0]
    values = dict(re.findall(r"^- (\w+): `([^`]*)`", section, flags=re.M))
    values["body"] = re.search(r"```json\n(.*?)\n```", section, flags=re.S).group(1)
    return values


def test_the_worked_example_in_the_docs_signs_as_documented():
    example = _worked_example()

    assert (
        signature(
            secret=example["secret"],
            timestamp=example["timestamp"],
            method=example["method"],
            path=example["path"],
            body=example["body"].encode(),
        )
        == example["signature"]
    )


def test_the_worked_example_is_accepted_by_the_server(clock, django_capture_on_commit_callbacks):
    example = _worked_example()
    partner = Partner.objects.create(name="Shenzhen Metro", actions=["metro_ride"])
    key = PartnerKey.objects.create(
        partner=partner,
        key_id=example["key_id"],
        secret_encrypted=secret_encrypt(example["secret"]),
    )
    clock.move_to(
        datetime.fromtimestamp(int(example["timestamp"]) + 5, tz=UTC)
    )  # the example's day
    client = PartnerClient(
        PartnerCredentials(partner, key, example["secret"]), django_capture_on_commit_callbacks
    )

    response = client.request(
        "POST", example["path"], example["body"].encode(), timestamp=int(example["timestamp"])
    )

    assert response.status_code == 202, response.content
    assert response.json()["results"][0] == {
        "external_id": "sz-metro-20261127-000001",
        "status": "accepted",
        "state": "unlinked",
        "reason": "not_linked",
    }


def test_a_wrong_signature_is_refused(metro):
    response = metro.send(event(), secret="not-the-secret")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_signature"


def test_a_body_changed_after_signing_is_refused(metro):
    body = json.dumps({"events": [event()]}).encode()
    stamp = str(int(timezone.now().timestamp()))
    response = metro.client.post(
        "/api/v1/partner/events",
        data=body.replace(b"10", b"99"),
        content_type="application/json",
        HTTP_X_CP_KEY=metro.credentials.key_id,
        HTTP_X_CP_TIMESTAMP=stamp,
        HTTP_X_CP_SIGNATURE=signature(
            secret=metro.credentials.secret,
            timestamp=stamp,
            method="POST",
            path="/api/v1/partner/events",
            body=body,
        ),
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_signature"


def test_the_query_string_is_part_of_what_is_signed(metro):
    ok = metro.get("/api/v1/partner/events/nothing-here?x=1")
    assert ok.status_code == 404  # signed path and query: authenticated, then not found
    stamp = str(int(timezone.now().timestamp()))
    forged = metro.client.get(
        "/api/v1/partner/events/nothing-here?x=2",
        HTTP_X_CP_KEY=metro.credentials.key_id,
        HTTP_X_CP_TIMESTAMP=stamp,
        HTTP_X_CP_SIGNATURE=signature(
            secret=metro.credentials.secret,
            timestamp=stamp,
            method="GET",
            path="/api/v1/partner/events/nothing-here?x=1",
            body=b"",
        ),
    )
    assert forged.status_code == 401


def test_an_unknown_key_is_refused(metro):
    response = metro.send(event(), key_id="pk_nobody")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unknown_key"


def test_a_disabled_partner_is_refused(metro):
    partner_status_set(partner=metro.partner, status=Partner.Status.DISABLED)
    response = metro.send(event())
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "partner_disabled"


@pytest.mark.parametrize("offset", [-310, 310])
def test_a_timestamp_more_than_300_s_away_is_refused(metro, offset):
    response = metro.send(event(), timestamp=int(timezone.now().timestamp()) + offset)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "stale_timestamp"


def test_an_unsigned_request_is_refused(metro):
    response = metro.client.post("/api/v1/partner/events", {"events": [event()]}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_signature"


def test_a_citizen_session_is_no_partner_credential(citizen_client):
    assert citizen_client.get("/api/v1/partner/events/x").status_code in (401, 403)


def test_a_rotated_key_keeps_working_for_the_overlap_then_stops(metro):
    new_key, new_secret = partner_key_rotate(partner=metro.partner, overlap=timedelta(hours=1))

    assert metro.send(event()).status_code == 202, "the old key still works during the overlap"
    assert metro.send(event(), key_id=new_key.key_id, secret=new_secret).status_code == 202

    PartnerKey.objects.filter(pk=metro.credentials.key.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    expired = metro.send(event())
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "unknown_key"
    assert metro.send(event(), key_id=new_key.key_id, secret=new_secret).status_code == 202


def test_create_partner_prints_credentials_that_sign_and_keeps_the_secret_encrypted(
    capsys, django_capture_on_commit_callbacks
):
    call_command(
        "create_partner", "--name", "深圳地铁", "--actions", "metro_ride,bus_ride", "--json"
    )
    created = json.loads(capsys.readouterr().out)

    assert set(created) == {"partner_id", "key_id", "secret", "regions"}
    key = PartnerKey.objects.get(key_id=created["key_id"])
    assert created["secret"] not in key.secret_encrypted
    assert key.partner.actions == ["bus_ride", "metro_ride"]
    client = PartnerClient(
        PartnerCredentials(key.partner, key, created["secret"]), django_capture_on_commit_callbacks
    )
    assert client.send(event()).status_code == 202


def test_create_partner_refuses_unknown_action_types():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="unknown action types"):
        call_command("create_partner", "--name", "X", "--actions", "teleport", "--json")


def test_a_timestamp_within_the_window_is_accepted(metro):
    assert metro.send(event(), timestamp=int(timezone.now().timestamp()) - 250).status_code == 202


def test_operators_rotate_and_disable_partners_in_the_admin(metro, client):
    from django.contrib.messages import get_messages

    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = "/admin/earn/partner/"

    response = client.post(url, {"action": "rotate_key", "_selected_action": [metro.partner.pk]})

    shown = " ".join(str(m) for m in get_messages(response.wsgi_request))
    new_key = metro.partner.keys.order_by("-id").first()
    assert new_key.key_id in shown and new_key.key_id != metro.credentials.key_id
    assert metro.partner.keys.get(pk=metro.credentials.key.pk).expires_at is not None
    assert metro.send(event()).status_code == 202, "the old key works during the overlap"

    client.post(url, {"action": "disable", "_selected_action": [metro.partner.pk]})
    assert metro.send(event()).json()["error"]["code"] == "partner_disabled"
