"""A real Celery worker, fed through Redis, runs a batch end to end: quantify, verify, credit."""

import json
import time

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from carbonpoints.earn.signing import signature
from tests.factories import CitizenFactory

from .factories import event, partner_with_key

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _signed_post(client, credentials, path, body):
    stamp = str(int(time.time()))
    return client.post(
        path,
        data=body,
        content_type="application/json",
        HTTP_X_CP_KEY=credentials.key_id,
        HTTP_X_CP_TIMESTAMP=stamp,
        HTTP_X_CP_SIGNATURE=signature(
            secret=credentials.secret, timestamp=stamp, method="POST", path=path, body=body
        ),
    )


def test_a_batch_is_quantified_verified_and_credited_by_a_real_worker(worker):
    metro = partner_with_key(name="Metro worker", actions=["metro_ride"])
    citizen = APIClient()
    citizen.force_authenticate(CitizenFactory())
    assert (
        citizen.post(
            "/api/v1/me/links",
            {"partner_id": metro.partner.pk, "subject": "w-1", "consent": True},
            format="json",
        ).status_code
        == 201
    )
    body = json.dumps(
        {
            "events": [event(external_id=f"w-{i}", subject="w-1", quantity=5) for i in range(20)]
            + [event(external_id="w-held", subject="nobody")]
        }
    ).encode()

    response = _signed_post(APIClient(), metro, "/api/v1/partner/events", body)
    assert response.status_code == 202, response.content

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if citizen.get("/api/v1/me/account").json()["reduction_g"] == 20 * 234:
            break
        time.sleep(0.2)
    else:
        worker.terminate()
        pytest.fail(
            "the worker did not credit the batch:\n" + worker.communicate(timeout=20)[0][-3000:]
        )
    assert citizen.get("/api/v1/me/account").json()["points"]["available"] == 20 * 234 // 10
    call_command("ledger_check")
