"""Merchants belong to a region; a scenario is offered in its merchant's region or province-wide;
the catalogue shows the citizen's home region unless asked for another."""

import pytest

from accounts.services import account_home_region_set

from .conftest import client_for
from .factories import MerchantFactory, ScenarioFactory

pytestmark = pytest.mark.django_db

HUBEI, WUHAN, YICHANG, XIANGYANG = "420000", "420100", "420500", "420600"


@pytest.fixture
def offers():
    return {
        "wuhan": ScenarioFactory(merchant=MerchantFactory(region_id=WUHAN)),
        "yichang": ScenarioFactory(merchant=MerchantFactory(region_id=YICHANG)),
        "xiangyang_everywhere": ScenarioFactory(
            merchant=MerchantFactory(region_id=XIANGYANG), province_wide=True
        ),
        "provincial": ScenarioFactory(merchant=MerchantFactory(region_id=HUBEI)),
    }


def _ids(client, query=""):
    return {s["id"] for s in client.get(f"/api/v1/scenarios{query}").json()["results"]}


def test_the_catalogue_shows_the_home_region_and_the_province_wide_offers(offers, make_citizen):
    user = make_citizen()
    account_home_region_set(account=user.carbon_account, region=YICHANG)
    client = client_for(user)
    pk = {name: s.pk for name, s in offers.items()}

    assert _ids(client) == {pk["yichang"], pk["xiangyang_everywhere"], pk["provincial"]}
    assert _ids(client, f"?region={WUHAN}") == {
        pk["wuhan"],
        pk["xiangyang_everywhere"],
        pk["provincial"],
    }
    assert _ids(client, "?region=all") == set(pk.values())
    assert _ids(client, f"?region={HUBEI}") == set(pk.values())


def test_a_citizen_who_chose_no_region_sees_the_default_region(offers, make_citizen):
    pk = {name: s.pk for name, s in offers.items()}

    assert _ids(client_for(make_citizen())) == {
        pk["wuhan"],
        pk["xiangyang_everywhere"],
        pk["provincial"],
    }


def test_each_offer_says_where_its_merchant_is(offers, make_citizen):
    rows = client_for(make_citizen()).get("/api/v1/scenarios?region=all").json()["results"]

    assert {(r["merchant"]["region"], r["province_wide"]) for r in rows} == {
        (WUHAN, False),
        (YICHANG, False),
        (XIANGYANG, True),
        (HUBEI, False),
    }
