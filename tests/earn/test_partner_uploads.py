"""Bulk files (CSV or JSON Lines, gzip allowed) are ingested by a worker, with progress."""

import gzip
import json

import pytest

from carbonpoints.earn.models import ActionRecord

from .factories import event

pytestmark = pytest.mark.django_db


def _csv(rows: list[dict]) -> bytes:
    lines = ["external_id,subject,action,quantity,unit,occurred_at,attributes"]
    for row in rows:
        attributes = json.dumps(row.get("attributes", {})).replace('"', '""')
        lines.append(
            f"{row['external_id']},{row['subject']},{row['action']},{row['quantity']},{row['unit']},"
            f'{row["occurred_at"]},"{attributes}"'
        )
    return ("\n".join(lines) + "\n").encode()


def test_a_gzipped_csv_upload_is_ingested_and_credited(metro, linked_citizen_client):
    rows = [event(external_id=f"csv-{i}", quantity=2) for i in range(30)]
    rows.append(event(external_id="csv-bad", action="bike_ride"))

    response = metro.request(
        "POST", "/api/v1/partner/uploads", gzip.compress(_csv(rows)), content_type="text/csv"
    )

    assert response.status_code == 202, response.content
    upload = metro.get(f"/api/v1/partner/uploads/{response.json()['upload_id']}").json()
    assert (upload["state"], upload["gzipped"], upload["lines_total"], upload["lines_done"]) == (
        "done",
        True,
        31,
        31,
    )
    assert upload["progress_percent"] == 100
    batch = metro.batch(upload["batch_id"])
    assert (batch["received"], batch["rejected"], batch["credited"]) == (30, 1, 30)
    assert batch["rejections"] == [{"external_id": "csv-bad", "code": "action_not_approved"}]
    assert linked_citizen_client.get("/api/v1/me/account").json()["reduction_g"] == 30 * 93


def test_a_json_lines_upload_takes_the_same_events(metro):
    lines = [json.dumps(event(external_id=f"jl-{i}")) for i in range(3)] + ["{not json", ""]
    body = "\n".join(lines).encode()

    response = metro.request(
        "POST", "/api/v1/partner/uploads?type=jsonl", body, content_type="application/octet-stream"
    )

    upload = metro.get(f"/api/v1/partner/uploads/{response.json()['upload_id']}").json()
    assert upload["state"] == "done" and upload["lines_total"] == 4
    assert metro.batch(upload["batch_id"])["rejected"] == 1
    assert ActionRecord.objects.filter(external_id__startswith="jl-").count() == 3


def test_an_upload_resent_is_all_duplicates(metro):
    body = "\n".join(json.dumps(event(external_id=f"re-{i}")) for i in range(5)).encode()
    metro.request("POST", "/api/v1/partner/uploads", body, content_type="application/x-ndjson")
    again = metro.request(
        "POST", "/api/v1/partner/uploads", body, content_type="application/x-ndjson"
    ).json()

    batch = metro.batch(
        metro.get(f"/api/v1/partner/uploads/{again['upload_id']}").json()["batch_id"]
    )
    assert (batch["received"], batch["duplicates"]) == (0, 5)


def test_an_unreadable_file_fails_with_its_reason(metro):
    response = metro.request(
        "POST", "/api/v1/partner/uploads", b"\x1f\x8b not really gzip", content_type="text/csv"
    )
    upload = metro.get(f"/api/v1/partner/uploads/{response.json()['upload_id']}").json()
    assert upload["state"] == "failed" and upload["error"].startswith("bad_gzip")

    header = metro.request(
        "POST", "/api/v1/partner/uploads", b"a,b\n1,2\n", content_type="text/csv"
    ).json()
    assert (
        metro.get(f"/api/v1/partner/uploads/{header['upload_id']}")
        .json()["error"]
        .startswith("bad_header")
    )


def test_an_unknown_format_is_refused(metro):
    response = metro.request(
        "POST", "/api/v1/partner/uploads", b"<xml/>", content_type="application/xml"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_format"
