"""The bad-input catalogue: every write endpoint against one table of bad values per field.

Each case is sent on its own beside an otherwise valid request and must get its documented 4xx
answer in the error shape, never a 500. In a partner's batch the bad event is refused alone
(its code in its result) and the good event sent beside it is accepted.
"""

from __future__ import annotations

import gzip
import io
import json
import time
from typing import Any

import pytest
from rest_framework.test import APIClient

from carbonpoints.earn.signing import signature
from tests.earn.factories import event, partner_with_key
from tests.factories import CitizenFactory
from tests.spend.factories import (
    PointsOffsetScenarioFactory,
    ScenarioFactory,
    StaffFactory,
    fill_pool,
    give_points,
)

pytestmark = pytest.mark.django_db

HUGE = 10**30
LONG = "x" * 10_000
DEEP: dict[str, Any] = {}
_level = DEEP
for _ in range(200):
    _level["a"] = {}
    _level = _level["a"]

# Values any text field must refuse or store safely, numbers any amount must refuse.
TEXT_CASES = [
    ("over long", LONG),
    ("NUL", "a\x00b"),
    ("null", None),
]  # a number is taken as its digits
NUMBER_CASES = [
    ("wrong type", "ten"),
    ("NaN", "NaN"),
    ("infinity", "Infinity"),
    ("huge", HUGE),
    ("negative", -5),
    ("zero", 0),
    ("null", None),
    ("float for an integer", 1.5),
]
TIME_CASES = [
    ("malformed", "yesterday"),
    ("naive", "2026-11-01T08:00:00"),
    ("impossible", "2026-13-45T08:00:00+08:00"),
]


# --- the partner feed: per-event codes, the good event beside it kept ---------------------

EVENT_CASES = [
    ("external_id", "wrong type", 12345, "invalid_event"),
    *[
        ("external_id", label, value, "invalid_event")
        for label, value in TEXT_CASES
        if label != "NUL"
    ],
    ("external_id", "NUL", "a\x00b", "invalid_characters"),
    ("external_id", "empty", "", "invalid_event"),
    ("subject", "wrong type", 12345, "invalid_event"),
    *[("subject", label, value, "invalid_event") for label, value in TEXT_CASES if label != "NUL"],
    ("subject", "NUL", "a\x00b", "invalid_characters"),
    ("action", "unknown", "teleport", "unknown_action"),
    ("action", "wrong type", 7, "invalid_event"),
    ("quantity", "wrong type", "ten", "invalid_event"),
    ("quantity", "NaN", "NaN", "invalid_quantity"),
    ("quantity", "infinity", "Infinity", "invalid_quantity"),
    ("quantity", "huge", HUGE, "invalid_quantity"),
    ("quantity", "negative", -5, "invalid_quantity"),
    ("quantity", "zero", 0, "invalid_quantity"),
    ("quantity", "null", None, "invalid_event"),
    ("unit", "not the methodology's", "miles", "unit_mismatch"),
    ("unit", "over long", LONG, "invalid_event"),
    *[("occurred_at", label, value, "invalid_event") for label, value in TIME_CASES],
    ("attributes", "wrong type", [1, 2], "invalid_event"),
    ("attributes", "negative duration", {"duration_s": -5}, "invalid_attributes"),
    ("attributes", "duration as text", {"duration_s": "long"}, "invalid_attributes"),
    ("attributes", "NUL in a value", {"line": "1\x002"}, "invalid_characters"),
    ("attributes", "NUL in a key", {"li\x00ne": "1"}, "invalid_characters"),
    ("attributes", "deep nesting", DEEP, "invalid_attributes"),
]


class Partner:
    def __init__(self):
        self.credentials = partner_with_key(actions=["metro_ride", "bus_ride"])
        self.client = APIClient()

    def post(self, path: str, body: bytes, content_type: str = "application/json"):
        stamp = str(int(time.time()))
        return self.client.generic(
            "POST",
            path,
            data=body,
            content_type=content_type,
            HTTP_X_CP_KEY=self.credentials.key_id,
            HTTP_X_CP_TIMESTAMP=stamp,
            HTTP_X_CP_SIGNATURE=signature(
                secret=self.credentials.secret, timestamp=stamp, method="POST", path=path, body=body
            ),
        )


@pytest.fixture
def partner(db) -> Partner:
    return Partner()


@pytest.mark.parametrize(
    ("field", "label", "value", "code"), EVENT_CASES, ids=[f"{c[0]}: {c[1]}" for c in EVENT_CASES]
)
def test_a_bad_event_is_refused_alone_with_its_code(partner, field, label, value, code):
    bad = event(external_id="bad-1")
    bad[field] = value
    body = json.dumps(
        {"events": [event(external_id="good-1"), bad, event(external_id="good-2")]}
    ).encode()

    response = partner.post("/api/v1/partner/events", body)

    assert response.status_code == 202, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "accepted"]
    assert results[1]["code"] == code


@pytest.mark.parametrize(
    ("label", "body", "status", "code"),
    [
        ("not JSON", b"{events: nope", 400, "malformed_request"),
        ("events not a list", b'{"events": {"a": 1}}', 400, "malformed_request"),
        ("no events", b'{"events": []}', 400, "malformed_request"),
        (
            "too many events",
            json.dumps({"events": [{"external_id": str(i)} for i in range(5001)]}).encode(),
            400,
            "malformed_request",
        ),
        (
            "deeply nested body",
            b'{"events": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
            400,
            "malformed_request",
        ),
        (
            "over 5 MiB",
            b'{"events": ["' + b"x" * (5 * 1024 * 1024) + b'"]}',
            413,
            "payload_too_large",
        ),
    ],
)
def test_a_malformed_batch_is_refused_whole(partner, label, body, status, code):
    response = partner.post("/api/v1/partner/events", body)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("label", "content", "state", "error"),
    [
        (
            "gzip bomb",
            gzip.compress(b"external_id,subject\n" + b"0" * (210 * 1024 * 1024)),
            "failed",
            "payload_too_large",
        ),
        ("gzip magic, not gzip", b"\x1f\x8b" + b"garbage" * 10, "failed", "bad_gzip"),
        (
            "not UTF-8",
            b"external_id,subject,action,quantity,unit,occurred_at\n\xff\xfe,1,2,3,4,5\n",
            "failed",
            "bad_encoding",
        ),
        ("no header", b"1,2,3\n", "failed", "bad_header"),
    ],
)
def test_a_bad_upload_fails_with_its_reason_and_nothing_stored(
    partner, django_capture_on_commit_callbacks, label, content, state, error
):
    with django_capture_on_commit_callbacks(execute=True):
        response = partner.post(
            "/api/v1/partner/uploads?type=csv", content, content_type="text/csv"
        )
    assert response.status_code == 202, response.content
    status = partner.client.generic(  # read back, signed
        "GET",
        f"/api/v1/partner/uploads/{response.json()['upload_id']}",
        **_signed(partner, "GET", f"/api/v1/partner/uploads/{response.json()['upload_id']}"),
    )
    assert status.json()["state"] == state
    assert status.json()["error"].startswith(error)


def _signed(partner: Partner, method: str, path: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {
        "HTTP_X_CP_KEY": partner.credentials.key_id,
        "HTTP_X_CP_TIMESTAMP": stamp,
        "HTTP_X_CP_SIGNATURE": signature(
            secret=partner.credentials.secret, timestamp=stamp, method=method, path=path, body=b""
        ),
    }


def test_an_empty_or_unknown_upload_is_refused_at_once(partner):
    assert (
        partner.post("/api/v1/partner/uploads?type=csv", b"", "text/csv").json()["error"]["code"]
        == "empty_upload"
    )
    refused = partner.post("/api/v1/partner/uploads", b"a,b\n", "application/pdf")
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "unsupported_format")


# --- the citizen's and the merchant's writes: 4xx with the error shape, never 500 ------------


def _cases(fields: dict[str, list[tuple[str, Any]]]) -> list[tuple[str, str, Any]]:
    return [(field, label, value) for field, cases in fields.items() for label, value in cases]


CITIZEN_WRITES = {
    "/api/v1/redemptions": ({"scenario_id": None}, _cases({"scenario_id": NUMBER_CASES})),
    "/api/v1/me/links": (
        {"partner_id": None, "subject": "m-1", "consent": True},
        _cases(
            {
                "partner_id": NUMBER_CASES,
                "subject": TEXT_CASES,
                "consent": [("wrong type", "maybe"), ("null", None)],
                "scenes": [
                    ("wrong type", "metro_ride"),
                    ("unknown scene", ["teleport"]),
                    ("nested", [["metro_ride"]]),
                ],
            }
        ),
    ),
}
MERCHANT_WRITES = {
    "/api/v1/merchant/scenarios": (
        {"kind": "voucher", "title": "Tea", "points_cost": 10, "stock": 5},
        _cases(
            {
                "kind": [("unknown", "lottery"), ("wrong type", 3)],
                "title": TEXT_CASES,
                "points_cost": NUMBER_CASES,
                "stock": [("negative", -1), ("huge", HUGE), ("wrong type", "many")],
                "valid_from": TIME_CASES,
                "valid_until": TIME_CASES,
            }
        ),
    ),
    "/api/v1/merchant/checkouts": (
        {"payment_code": None, "amount_fen": 10_000, "points": 10},
        _cases(
            {
                "payment_code": TEXT_CASES,
                "amount_fen": NUMBER_CASES,
                "points": NUMBER_CASES,
            }
        ),
    ),
    "/api/v1/merchant/offsets": (
        {"grams": 10, "purpose": "our shop's deliveries"},
        _cases(
            {
                "grams": NUMBER_CASES,
                "purpose": TEXT_CASES,
                "vintage": [("malformed", "2026-13"), ("wrong type", 202611), ("over long", LONG)],
            }
        ),
    ),
}


@pytest.fixture
def people(db):
    citizen = CitizenFactory()
    give_points(citizen, 1000)
    staff = StaffFactory()
    scenario = ScenarioFactory(merchant=staff.merchant, points_cost=10, stock=5)
    PointsOffsetScenarioFactory(merchant=staff.merchant)
    fill_pool("metro_ride", 2026, 11, 1000)
    citizen_client, staff_client = APIClient(), APIClient()
    citizen_client.force_authenticate(citizen)
    staff_client.force_authenticate(staff.user)
    partner = partner_with_key(actions=["metro_ride"]).partner
    code = citizen_client.post("/api/v1/me/payment-codes").json()["code"]
    return {
        "citizen": citizen_client,
        "staff": staff_client,
        "scenario_id": scenario.pk,
        "partner_id": partner.pk,
        "payment_code": code,
    }


def _valid(base: dict[str, Any], people) -> dict[str, Any]:
    return {
        key: people[key] if value is None and key in people else value
        for key, value in base.items()
    }


def _refused_cleanly(response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert set(response.json()["error"]) >= {"code", "message", "details"}


@pytest.mark.parametrize(
    ("path", "field", "label", "value"),
    [(path, *case) for path, (_, cases) in CITIZEN_WRITES.items() for case in cases],
    ids=lambda v: str(v)[:30],
)
def test_a_citizens_write_refuses_each_bad_value_with_the_error_shape(
    people, path, field, label, value
):
    body = {**_valid(CITIZEN_WRITES[path][0], people), field: value}
    response = people["citizen"].post(
        path, body, format="json", HTTP_IDEMPOTENCY_KEY=f"k-{field}-{label}"
    )
    _refused_cleanly(response)


@pytest.mark.parametrize(
    ("path", "field", "label", "value"),
    [(path, *case) for path, (_, cases) in MERCHANT_WRITES.items() for case in cases],
    ids=lambda v: str(v)[:30],
)
def test_a_merchants_write_refuses_each_bad_value_with_the_error_shape(
    people, path, field, label, value
):
    body = {**_valid(MERCHANT_WRITES[path][0], people), field: value}
    response = people["staff"].post(path, body, format="json")
    _refused_cleanly(response)


def test_a_huge_idempotency_key_is_refused(people):
    response = people["citizen"].post(
        "/api/v1/redemptions",
        {"scenario_id": people["scenario_id"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k" * 10_000,
    )
    _refused_cleanly(response)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", 12345),
        ("email", LONG + "@x.cn"),
        ("email", "a\x00b@x.cn"),
        ("email", None),
        ("password", 12345),
        ("password", None),
        ("password", "p\x00w"),
    ],
)
def test_sign_in_refuses_bad_values_with_a_client_error(db, field, value):
    body = {"email": "someone@x.cn", "password": "a-password", field: value}
    response = APIClient().post("/_allauth/app/v1/auth/login", body, format="json")
    assert 400 <= response.status_code < 500, response.content[:300]


def test_a_body_that_is_no_json_object_is_refused(people):
    response = people["citizen"].post(
        "/api/v1/me/links", io.BytesIO(b"[1, 2").read(), content_type="application/json"
    )
    _refused_cleanly(response)


def test_an_oversized_body_to_a_citizens_write_is_refused(people):
    body = json.dumps(
        {"partner_id": people["partner_id"], "subject": "x" * (3 * 1024 * 1024), "consent": True}
    )
    response = people["citizen"].post("/api/v1/me/links", body, content_type="application/json")
    _refused_cleanly(response)
