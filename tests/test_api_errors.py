"""Every API error has the one shape of docs/design.md#errors; the API documents itself."""

import pytest
from django.core.cache import cache
from rest_framework.throttling import UserRateThrottle

pytestmark = pytest.mark.django_db


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]


def test_unknown_api_path_is_a_json_404(client):
    assert_error(client.get("/api/v1/no/such/thing"), 404, "not_found")


def test_unauthenticated_is_401_and_names_the_token_header(api_client):
    response = api_client.get("/api/v1/me/account")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "X-Session-Token"


def test_wrong_method_is_405(citizen_client):
    assert_error(citizen_client.post("/api/v1/me/account"), 405, "method_not_allowed")


def test_malformed_json_is_400(citizen_client):
    response = citizen_client.generic(
        "POST", "/_allauth/app/v1/auth/signup", "{not json", content_type="application/json"
    )
    assert response.status_code == 400


def _clock_at(monkeypatch, seconds: float) -> None:
    """Pin the throttles' clock (rates are counted per minute of the clock)."""
    monkeypatch.setattr(UserRateThrottle, "timer", staticmethod(lambda: seconds))


def test_throttled_requests_say_when_to_retry(citizen_client, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/min"})
    _clock_at(monkeypatch, 1_800_000_015.0)  # 15 s into a minute
    cache.clear()
    for _ in range(2):
        assert citizen_client.get("/api/v1/me/account").status_code == 200
    error = assert_error(citizen_client.get("/api/v1/me/account"), 429, "throttled")
    assert 0 < error["details"]["retry_after_s"] <= 60


@pytest.mark.redis  # counted per minute in Redis; DRF's own sliding window without it
def test_a_throttled_citizen_may_call_again_the_next_minute(citizen_client, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/min"})
    _clock_at(monkeypatch, 1_800_000_059.0)
    cache.clear()
    for _ in range(2):
        assert citizen_client.get("/api/v1/me/account").status_code == 200
    assert_error(citizen_client.get("/api/v1/me/account"), 429, "throttled")

    _clock_at(monkeypatch, 1_800_000_061.0)
    assert citizen_client.get("/api/v1/me/account").status_code == 200


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/me/account" in schema.json()["paths"]
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_validation_errors_name_each_field():
    from rest_framework.exceptions import ValidationError

    from carbonpoints.api.errors import exception_handler

    response = exception_handler(ValidationError({"points_cost": ["must be positive"]}), {})
    assert response.status_code == 400
    assert response.data == {
        "error": {
            "code": "invalid",
            "message": "The request is not valid; see details.",
            "details": {"points_cost": ["must be positive"]},
        }
    }


def test_ledger_refusals_become_409_with_their_code():
    from carbonpoints.api.errors import exception_handler
    from carbonpoints.ledger.exceptions import IdempotencyConflict

    response = exception_handler(IdempotencyConflict("key reused"), {})
    assert response.status_code == 409
    assert response.data["error"]["code"] == "idempotency_conflict"


def test_the_openapi_schema_is_valid_and_complete(tmp_path):
    from django.core.management import call_command

    # --fail-on-warn: every view, serializer and authentication scheme is described
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
    schema = (tmp_path / "schema.yml").read_text()
    for path in (
        "/api/v1/partner/events",
        "/api/v1/me/actions",
        "/api/v1/redemptions",
        "/api/v1/merchant/offsets",
    ):
        assert f"{path}:" in schema
    assert "X-Session-Token" in schema and "X-CP-Signature" in schema


def test_a_services_full_clean_refusal_is_invalid_per_field():
    from django.core.exceptions import ValidationError as DjangoValidationError

    from carbonpoints.api.errors import exception_handler

    response = exception_handler(DjangoValidationError({"title": ["Too long."]}), {})
    assert response.status_code == 400
    assert response.data["error"]["code"] == "invalid"
    assert response.data["error"]["details"] == {"title": ["Too long."]}


@pytest.mark.parametrize(
    ("kind", "status"), [("Unauthenticated", 401), ("TooLarge", 413), ("Conflict", 409)]
)
def test_each_kind_of_refusal_answers_its_status(kind, status):
    from carbonpoints import errors
    from carbonpoints.api.errors import exception_handler

    response = exception_handler(getattr(errors, kind)("No.", figure=1), {})
    assert response.status_code == status
    assert response.data["error"]["message"] == "No."
    assert response.data["error"]["details"] == {"figure": 1}
