"""schemathesis against every operation of the API, signed in: a citizen's token for the citizen
API, a merchant manager's for the merchant API, and partner HMAC signing for the partner feed
(a WSGI hook signs each request as it is sent). Checks: no 5xx, and every documented answer
conforms to the schema. A bounded number of examples per operation."""

from __future__ import annotations

import io
import time
from urllib.parse import quote

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from carbonpoints.earn.signing import signature
from tests.earn.factories import partner_with_key
from tests.factories import CitizenFactory
from tests.security.test_authorization_matrix import session_token
from tests.spend.factories import ScenarioFactory, StaffFactory, give_points

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 5


class SignedIn:
    """A WSGI hook in front of the app: each request is signed in as the party its path needs."""

    def __init__(self, app, *, citizen: str, manager: str, partner) -> None:
        self.app, self.citizen, self.manager, self.partner = app, citizen, manager, partner

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/api/v1/partner/"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            raw = quote(path, safe="/:@!$&'()*+,;=-._~") + (
                f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else ""
            )
            stamp = str(int(time.time()))
            environ.update(
                {
                    "RAW_URI": raw,
                    "HTTP_X_CP_KEY": self.partner.key_id,
                    "HTTP_X_CP_TIMESTAMP": stamp,
                    "HTTP_X_CP_SIGNATURE": signature(
                        secret=self.partner.secret,
                        timestamp=stamp,
                        method=environ["REQUEST_METHOD"],
                        path=raw,
                        body=body,
                    ),
                }
            )
        elif path.startswith("/api/v1/merchant/"):
            environ["HTTP_X_SESSION_TOKEN"] = self.manager
        else:
            environ["HTTP_X_SESSION_TOKEN"] = self.citizen
        return self.app(environ, start_response)


@pytest.fixture
def _keep_the_test_connection():
    """Django's test client keeps the test's database connection across requests; a bare
    WSGIHandler would close it at each request's end (as a server does), so do the same."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(db, _keep_the_test_connection):
    citizen = CitizenFactory()
    give_points(citizen, 10_000)
    manager = StaffFactory()
    ScenarioFactory(merchant=manager.merchant)
    partner = partner_with_key(name="Fuzzed Metro", actions=["metro_ride", "bus_ride"])
    app = SignedIn(
        WSGIHandler(),
        citizen=session_token(citizen),
        manager=session_token(manager.user),
        partner=partner,
    )
    return schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", app)


def _first_lines(exc: BaseException) -> str:
    """The failures schemathesis found, without the schema it prints with each."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    found = [
        line for line in lines if "ST" in line[:8] or "is not" in line or "Server error" in line
    ]
    return "; ".join(found or lines[:3])[:400]


def test_every_operation_answers_without_5xx_and_as_documented(api_schema):
    """Each operation in turn (schemathesis' own pytest plugin does not run on pytest 9 yet)."""
    failures, operations, cases = [], 0, [0]
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case):
            cases[0] += 1
            with transaction.atomic():  # one request's database error does not spoil the next
                case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

        try:
            run()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001  (a check failed: report every operation at once)
            failures.append(f"{operation.label}: {_first_lines(exc)}")
    assert not failures, "\n\n".join(failures)
    print(f"schemathesis: {operations} operations, {cases[0]} cases")
    assert operations >= 33 and cases[0] >= operations
