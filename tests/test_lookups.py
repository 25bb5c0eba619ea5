"""Lists as one array parameter: what goes in comes back, whatever the characters."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection

from accounts.models import CarbonAccount
from carbonpoints.lookups import pg_array

from .factories import CitizenFactory

pytestmark = pytest.mark.django_db

TRICKY = [
    "plain",
    "",
    "NULL",
    "a,b",
    "{braces}",
    'quote"d',
    "back\\slash",
    "tab\there",
    "line\nbreak",
    "中文 会员",
    "  spaced  ",
    None,
]


@pytest.mark.parametrize(
    ("values", "sql_type"),
    [
        (TRICKY, "text"),
        ([1, -2, 0, 9_223_372_036_854_775_807, None], "bigint"),
        ([Decimal("1.5"), Decimal("-0.000001"), Decimal("1E+3"), None], "numeric"),
        ([True, False, None], "boolean"),
        ([datetime(2026, 11, 28, 8, 30, 15, 123456, tzinfo=UTC), None], "timestamptz"),
        ([], "text"),
    ],
)
def test_an_array_literal_round_trips_through_postgresql(values, sql_type):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT unnest(%s::{sql_type}[])", [pg_array(values)])
        assert [row[0] for row in cursor.fetchall()] == values


def test_any_finds_what_in_finds():
    citizens = [CitizenFactory().carbon_account.pk for _ in range(3)]
    wanted = {citizens[0], citizens[2], 10**12}
    assert (
        set(CarbonAccount.objects.filter(pk__any=wanted).values_list("pk", flat=True))
        == set(CarbonAccount.objects.filter(pk__in=wanted).values_list("pk", flat=True))
        == {citizens[0], citizens[2]}
    )
    assert not CarbonAccount.objects.filter(pk__any=set()).exists()
