"""City reports: the operators' dashboard and the same figures as open data, set-based."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.earn.factories import event
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(metro, linked_citizen_client):
    """Three rides credited in two districts (one with none), one rejected for its future date."""
    now = timezone.now()
    metro.send(
        event(external_id="a", quantity=10, attributes={"district": "Tianhe"}),
        event(
            external_id="b",
            quantity=20,
            attributes={"district": "Tianhe"},
            occurred_at=now - timedelta(days=40),
        ),
        event(external_id="c", quantity=5),
        event(external_id="d", quantity=5, occurred_at=now + timedelta(days=1)),
    )
    return metro


def test_the_open_data_json_has_reductions_by_month_scene_partner_and_district(client, city):
    report = client.get("/open-data/city.json").json()

    districts = {row["district"]: row["grams"] for row in report["city"]["reductions_by_district"]}
    assert districts == {"Tianhe": 467 + 934, "unknown": 234}
    assert report["city"]["reductions_by_scene"] == [
        {"scene": "metro_ride", "grams": 1635, "actions": 3}
    ]
    assert report["city"]["reductions_by_partner"] == [
        {"partner": "Metro", "grams": 1635, "actions": 3}
    ]
    assert sum(row["grams"] for row in report["city"]["reductions_by_month"]) == 1635
    assert report["pipeline"]["rejections_by_partner"] == [
        {"partner": "Metro", "reason": "occurred_in_future", "records": 1}
    ]
    assert report["participation"]["linked_citizens"] == 1
    assert (
        report["ledger"]["points_outstanding"] == 163
    )  # 1635 g at 10 g a point, remainder carried


def test_the_csv_carries_the_same_figures(client, city):
    response = client.get("/open-data/city.csv")

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "figure", "key", "value"]
    assert ["city", "reductions_by_district_g", "Tianhe", "1401"] in rows
    assert ["ledger", "points_outstanding", "", "163"] in rows


def test_the_figures_take_a_fixed_number_of_queries_however_many_records(
    client, city, django_assert_max_num_queries
):
    city.send(
        *[
            event(external_id=f"more-{n}", quantity=1, attributes={"district": f"D{n}"})
            for n in range(30)
        ]
    )
    with django_assert_max_num_queries(17):  # 16, and 1 for the sponsors' budgets however many
        assert client.get("/open-data/city.json").status_code == 200


def test_only_staff_see_the_dashboard_and_its_charts_are_fed(client, city, citizen):
    client.force_login(citizen)
    assert client.get("/operators/dashboard/").status_code == 302

    client.force_login(UserFactory(is_staff=True))
    page = client.get("/operators/dashboard/").content.decode()
    for chart in ("chart-month", "chart-scene", "chart-partner", "chart-district"):
        assert f'id="{chart}-data"' in page
    assert "occurred_in_future" in page and "Tianhe" in page
