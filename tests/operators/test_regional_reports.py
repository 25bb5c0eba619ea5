"""Reports and open data per region: each city's figures, which sum to the province's."""

from collections import Counter

import pytest

from carbonpoints.methodologies.models import Methodology
from tests.earn.factories import event
from tests.factories import funded_budget

pytestmark = pytest.mark.django_db

HUBEI, WUHAN, YICHANG, XIANGYANG = "420000", "420100", "420500", "420600"
CITIES = (WUHAN, YICHANG, XIANGYANG)


@pytest.fixture
def rides_in_three_cities(metro, linked_citizen_client):
    Methodology.objects.update(region_id=HUBEI)
    funded_budget(sponsor__name="Yichang City", region_id=YICHANG)
    funded_budget(sponsor__name="Hubei Province", region_id=HUBEI)
    metro.partner.regions.set(CITIES)
    metro.send(
        *(
            event(region=city, quantity=n + 1, action=action)
            for n, city in enumerate(CITIES * 3)
            for action in ("metro_ride", "bus_ride")
        )
    )


def _grams(report, dimension, key):
    return Counter({row[key]: row["grams"] for row in report["city"][dimension]})


def test_open_data_of_the_cities_sums_to_the_province(rides_in_three_cities, client):
    reports = {
        code: client.get("/open-data/city.json", {"region": code}).json()
        for code in (*CITIES, HUBEI)
    }
    everything = client.get("/open-data/city.json").json()

    for dimension, key in (
        ("reductions_by_scene", "scene"),
        ("reductions_by_partner", "partner"),
        ("reductions_by_month", "month"),
    ):
        cities = sum((_grams(reports[c], dimension, key) for c in CITIES), Counter())
        assert (
            cities == _grams(reports[HUBEI], dimension, key) == _grams(everything, dimension, key)
        )
    assert all(_grams(reports[c], "reductions_by_scene", "scene") for c in CITIES), (
        "every city has rides"
    )
    budgets = [
        b["sponsor"]
        for c in (*CITIES, HUBEI)
        for b in reports[c]["sponsor_budgets"]
        if b["region"] == c
    ]
    assert sorted(budgets) == sorted(b["sponsor"] for b in everything["sponsor_budgets"])
    assert (
        sum(reports[c]["participation"]["citizens"] for c in CITIES)
        == everything["participation"]["citizens"]
    )
    assert (
        reports[YICHANG]["region"] == YICHANG
        and "ledger" not in reports[YICHANG]
        and "ledger" in everything
    )


def test_the_csv_of_a_region_is_its_figures(rides_in_three_cities, client):
    rows = client.get("/open-data/city.csv", {"region": YICHANG}).content.decode().splitlines()

    assert rows[0] == "section,figure,key,value"
    assert any(row.startswith("city,reductions_by_scene_g,metro_ride,") for row in rows)
    assert not any(row.startswith("ledger,") for row in rows)


def test_the_dashboard_has_a_region_picker(rides_in_three_cities, operator_client):
    page = operator_client.get("/operators/dashboard/", {"region": YICHANG}).content.decode()

    assert 'id="region-picker"' in page and "Yichang" in page and "Xiangyang" in page
