"""Merchants retire pooled reductions: serial-numbered, oldest first, each unit once, verifiable."""

import pytest
from django.core.management import call_command

from carbonpoints.ledger.models import LedgerAccount
from redemption.models import UnitBlock
from redemption.selectors import units_overlap
from redemption.tasks import unitize_pool

from .conftest import assert_error
from .factories import fill_pool

pytestmark = pytest.mark.django_db


def retire(client, grams, purpose="Team offsite travel", **extra):
    return client.post(
        "/api/v1/merchant/offsets", {"grams": grams, "purpose": purpose, **extra}, format="json"
    )


def test_pooled_grams_become_serial_blocks_once(db):
    fill_pool("metro", 2026, 9, 1000)
    assert unitize_pool() == 1
    assert unitize_pool() == 0
    fill_pool("metro", 2026, 9, 500)
    assert unitize_pool() == 1
    blocks = list(UnitBlock.objects.values_list("serial_first", "serial_last"))
    assert blocks == [(1, 1000), (1001, 1500)]


def test_a_retirement_takes_the_oldest_units_and_issues_a_certificate(manager_client, client):
    fill_pool("bus", 2026, 10, 300)
    fill_pool("metro", 2026, 9, 200)
    unitize_pool()

    response = retire(manager_client, 250)

    assert response.status_code == 201, response.content
    certificate = response.json()["certificate"]
    assert certificate["grams"] == 250
    assert [(r["methodology"], r["vintage"], r["grams"]) for r in certificate["serial_ranges"]] == [
        ("metro", "2026-09", 200),
        ("bus", "2026-10", 50),
    ]
    assert certificate["serial_ranges"][0]["first"] == "CP-METRO-202609-000000000001"
    assert certificate["url"].endswith(f"/certificates/{certificate['id']}")

    page = client.get(f"/certificates/{certificate['id']}")
    assert page.status_code == 200 and "Verified" in page.content.decode()
    data = client.get(f"/certificates/{certificate['id']}?format=json").json()
    assert (
        data["verified"] is True
        and data["grams"] == 250
        and data["vintages"] == ["2026-09", "2026-10"]
    )
    assert (
        client.get(f"/certificates/{certificate['id']}", HTTP_ACCEPT="application/json").json()[
            "id"
        ]
        == certificate["id"]
    )
    call_command("ledger_check")


def test_retiring_never_takes_a_unit_twice(manager_client):
    fill_pool("metro", 2026, 9, 100)
    first = retire(manager_client, 60).json()["certificate"]["serial_ranges"]
    second = retire(manager_client, 40).json()["certificate"]["serial_ranges"]

    assert (first[0]["first"], first[0]["last"]) == (
        "CP-METRO-202609-000000000001",
        "CP-METRO-202609-000000000060",
    )
    assert (second[0]["first"], second[0]["last"]) == (
        "CP-METRO-202609-000000000061",
        "CP-METRO-202609-000000000100",
    )
    assert not units_overlap()
    assert_error(retire(manager_client, 1), 409, "insufficient_pool")


def test_more_than_the_pool_holds_is_refused(manager_client):
    fill_pool("metro", 2026, 9, 100)
    error = assert_error(retire(manager_client, 101), 409, "insufficient_pool")
    assert error["details"] == {"requested": 101, "available": 100}
    assert LedgerAccount.objects.get(kind="pool_metro").balance == 100


def test_a_chosen_vintage_is_the_only_one_used(manager_client):
    fill_pool("metro", 2026, 9, 100)
    fill_pool("metro", 2026, 10, 100)
    ranges = retire(manager_client, 80, vintage="2026-10").json()["certificate"]["serial_ranges"]
    assert [r["vintage"] for r in ranges] == ["2026-10"]
    assert_error(retire(manager_client, 21, vintage="2026-10"), 409, "insufficient_pool")


def test_only_managers_retire(cashier_client):
    fill_pool("metro", 2026, 9, 100)
    assert_error(retire(cashier_client, 10), 403, "manager_only")


def test_an_unknown_certificate_is_not_found(client):
    assert client.get("/certificates/00000000-0000-0000-0000-000000000000").status_code == 404
