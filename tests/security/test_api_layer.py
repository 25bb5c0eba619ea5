"""One pattern per job in the API layer: permission classes, domain errors mapped in the one
handler, FilterSets for query parameters, and a schema that documents the error answers."""

from __future__ import annotations

import pytest

from carbonpoints.api.errors import exception_handler
from carbonpoints.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unprocessable
from tests.factories import CitizenFactory
from tests.spend.conftest import assert_error, client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (NotFound, 404),
        (Forbidden, 403),
        (Invalid, 400),
        (Unprocessable, 422),
        (Conflict, 409),
        (DomainError, 409),
    ],
)
def test_each_kind_of_domain_error_answers_its_status_in_the_error_shape(kind, status):
    class Refusal(kind):
        code = "some_refusal"
        message = "Refused for a reason."

    response = exception_handler(Refusal(amount=3), {})
    assert response.status_code == status
    assert response.data == {
        "error": {
            "code": "some_refusal",
            "message": "Refused for a reason.",
            "details": {"amount": 3},
        }
    }


def test_citizen_endpoints_refuse_other_roles_by_permission_class(cashier_client):
    for path in (
        "/api/v1/me/actions",
        "/api/v1/me/ledger",
        "/api/v1/me/links",
        "/api/v1/me/vouchers",
    ):
        assert_error(cashier_client.get(path), 403, "not_a_citizen")
    assert_error(cashier_client.post("/api/v1/me/payment-codes"), 403, "not_a_citizen")


def test_merchant_endpoints_refuse_by_role(cashier_client):
    citizen = client_for(CitizenFactory())
    assert_error(citizen.get("/api/v1/merchant/checkouts"), 403, "not_merchant_staff")
    assert_error(cashier_client.get("/api/v1/merchant/staff"), 403, "manager_only")
    assert_error(
        cashier_client.post("/api/v1/merchant/scenarios", {}, format="json"), 403, "manager_only"
    )
    assert cashier_client.get("/api/v1/merchant/scenarios").status_code == 200  # staff may read


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/me/ledger?unit=kg", "unit"),
        ("/api/v1/me/ledger?since=2026-11-01T08:00:00", "since"),  # no offset
        ("/api/v1/me/actions?state=lost", "state"),
        ("/api/v1/me/actions?occurred_before=soon", "occurred_before"),
        (
            "/api/v1/me/actions?occurred_after=4533-07-04T20:29:48-20:16",
            "occurred_after",
        ),  # no zone has it
        ("/api/v1/scenarios?merchant=abc", "merchant"),
        ("/api/v1/scenarios?kind=gift", "kind"),
    ],
)
def test_bad_query_parameters_answer_invalid_per_parameter(path, field):
    error = assert_error(client_for(CitizenFactory()).get(path), 400, "invalid")
    assert list(error["details"]) == [field]


def test_good_query_parameters_filter():
    citizen = client_for(CitizenFactory())
    for path in (
        "/api/v1/me/ledger?unit=pt&account=points&since=2026-11-01T08:00:00%2B08:00",
        "/api/v1/me/actions?state=credited&occurred_after=2026-11-01T00:00:00Z",
        "/api/v1/scenarios?kind=voucher&affordable=true&merchant=1",
    ):
        assert citizen.get(path).status_code == 200, path


def test_the_schema_documents_error_answers_and_filter_parameters(api_client):
    schema = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {"error"}
    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert len(operations) >= 30
    for operation in operations:
        for status in ("429", "503"):
            assert operation["responses"][status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }, operation["operationId"]
    consume = schema["paths"]["/api/v1/merchant/vouchers/{code}/consume"]["post"]["responses"]
    assert {"401", "403", "404", "409"} <= set(consume)
    actions = schema["paths"]["/api/v1/me/actions"]["get"]["parameters"]
    occurred_after = next(p for p in actions if p["name"] == "occurred_after")
    assert occurred_after["schema"] == {"type": "string", "format": "date-time"}
    state = next(p for p in actions if p["name"] == "state")
    assert "credited" in state["schema"]["enum"]


# --- a service away: 503, never 500 ------------------------------------------------------------


def test_an_unreachable_database_answers_503_with_the_error_shape(monkeypatch):
    from django.db import OperationalError

    import accounts.api.views

    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(accounts.api.views, "citizen_account_summary", down)
    response = client_for(CitizenFactory()).get("/api/v1/me/account")
    error = assert_error(response, 503, "service_unavailable")
    assert response["Retry-After"] == "5" and error["details"]["retry_after_s"] == 5


def test_an_unreachable_broker_answers_503_on_a_page_too(client, monkeypatch):
    from kombu.exceptions import OperationalError as BrokerError

    import carbonpoints.portal.views

    def down(*args, **kwargs):
        raise BrokerError("redis is away")

    monkeypatch.setattr(carbonpoints.portal.views, "render", down)
    client.force_login(CitizenFactory())
    response = client.get("/me/")
    assert response.status_code == 503 and response["Retry-After"] == "5"


def test_the_500_handler_answers_503_for_an_unreachable_service_outside_views(rf):
    from django.db import OperationalError

    from carbonpoints.api.errors import server_error

    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = server_error(rf.get("/api/v1/me/account"))
    assert response.status_code == 503
