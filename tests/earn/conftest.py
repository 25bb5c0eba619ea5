"""Fixtures of the earn side: signed partner requests, linked citizens, tasks run on commit."""

from __future__ import annotations

import importlib
import json
import time

import pytest
from rest_framework.test import APIClient

from carbonpoints.earn.signing import signature

from .factories import PartnerCredentials, partner_with_key


class PartnerClient:
    """Signs each request as docs/design.md#partner-feed says; runs what is enqueued on commit."""

    def __init__(self, credentials: PartnerCredentials, capture):
        self.credentials = credentials
        self.client = APIClient()
        self.capture = capture

    @property
    def partner(self):
        return self.credentials.partner

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        content_type: str = "application/json",
        timestamp: int | None = None,
        secret: str | None = None,
        key_id: str | None = None,
        extra_headers: dict | None = None,
        run_tasks: bool = True,
    ):
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "HTTP_X_CP_KEY": key_id or self.credentials.key_id,
            "HTTP_X_CP_TIMESTAMP": stamp,
            "HTTP_X_CP_SIGNATURE": signature(
                secret=secret or self.credentials.secret,
                timestamp=stamp,
                method=method,
                path=path,
                body=body,
            ),
            **(extra_headers or {}),
        }
        with self.capture(execute=run_tasks):
            if method == "GET":
                return self.client.get(path, **headers)
            return self.client.generic(
                method, path, data=body, content_type=content_type, **headers
            )

    def send(self, *events, **kwargs):
        body = json.dumps({"events": list(events)}).encode()
        return self.request("POST", "/api/v1/partner/events", body, **kwargs)

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def batch(self, batch_id: str) -> dict:
        response = self.get(f"/api/v1/partner/batches/{batch_id}")
        assert response.status_code == 200, response.content
        return response.json()

    def record(self, external_id: str) -> dict:
        response = self.get(f"/api/v1/partner/events/{external_id}")
        assert response.status_code == 200, response.content
        return response.json()


@pytest.fixture(autouse=True)
def _catalogue(db):
    """The methodology catalogue of the data migration, back after a transactional test's flush."""
    from django.apps import apps

    from carbonpoints.methodologies.models import Methodology

    if not Methodology.objects.exists():
        catalogue_v1 = importlib.import_module(
            "carbonpoints.methodologies.migrations.0002_catalogue_v1"
        )
        catalogue_v1.forward(apps, None)
        Methodology.objects.update(
            status=Methodology.Status.IN_FORCE
        )  # as 0003_approval_workflow leaves it


@pytest.fixture(autouse=True)
def _city_budget(request, db):
    """The city's budget that funds the points, as on every running platform; a test marked
    ``unfunded`` starts without one."""
    from carbonpoints.budgets.models import Budget
    from tests.factories import funded_budget

    if (
        request.node.get_closest_marker("unfunded")
        or Budget.objects.filter(sponsor__name="Test City").exists()
    ):
        return None
    return funded_budget(sponsor__name="Test City", name="city budget")


@pytest.fixture
def metro(db, django_capture_on_commit_callbacks) -> PartnerClient:
    return PartnerClient(
        partner_with_key(name="Metro", actions=["metro_ride", "bus_ride"]),
        django_capture_on_commit_callbacks,
    )


@pytest.fixture
def bikes(db, django_capture_on_commit_callbacks) -> PartnerClient:
    return PartnerClient(
        partner_with_key(name="Bikes", actions=["bike_ride", "metro_ride"]),
        django_capture_on_commit_callbacks,
    )


@pytest.fixture
def link(django_capture_on_commit_callbacks):
    """Link a member id at a partner to a citizen through the API (``link(client, partner, subject)``)."""

    def make(
        client: APIClient,
        partner,
        subject: str = "member-1",
        consent: bool = True,
        run_tasks: bool = True,
    ):
        with django_capture_on_commit_callbacks(execute=run_tasks):
            return client.post(
                "/api/v1/me/links",
                {"partner_id": partner.pk, "subject": subject, "consent": consent},
                format="json",
            )

    return make


@pytest.fixture
def linked_citizen_client(citizen_client, metro, link):
    """A citizen who linked member-1 at the metro partner."""
    response = link(citizen_client, metro.partner, "member-1")
    assert response.status_code == 201, response.content
    return citizen_client
