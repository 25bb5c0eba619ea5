"""A partner is approved for one region or several; each event happened in one of them."""

import pytest

from carbonpoints.earn.models import ActionRecord
from carbonpoints.methodologies.models import Methodology

from .factories import event

WUHAN, YICHANG, XIANGYANG = "420100", "420500", "420600"


def test_a_partner_of_one_region_need_not_name_it(metro, linked_citizen_client):
    response = metro.send(event(external_id="a"))

    assert response.json()["results"][0]["state"] == "credited"
    assert ActionRecord.objects.get(external_id="a").region_id == WUHAN  # the default region


@pytest.fixture
def national_bikes(bikes):
    Methodology.objects.update(region_id="420000")  # the province's catalogue: every city has one
    bikes.partner.regions.set([WUHAN, YICHANG])
    return bikes


def test_a_partner_of_several_regions_names_one_for_each_event(national_bikes):
    response = national_bikes.send(
        event(external_id="in-wuhan", region=WUHAN),
        event(external_id="in-yichang", region=YICHANG),
        event(external_id="nowhere"),
        event(external_id="in-xiangyang", region=XIANGYANG),
    )

    body = response.json()
    assert response.status_code == 202
    assert [(r["external_id"], r["status"], r.get("code")) for r in body["results"]] == [
        ("in-wuhan", "accepted", None),
        ("in-yichang", "accepted", None),
        ("nowhere", "rejected", "region_required"),
        ("in-xiangyang", "rejected", "region_not_approved"),
    ]
    assert dict(ActionRecord.objects.values_list("external_id", "region")) == {
        "in-wuhan": WUHAN,
        "in-yichang": YICHANG,
    }
    status = national_bikes.batch(body["batch_id"])
    assert status["regions"] == {WUHAN: {"unlinked": 1}, YICHANG: {"unlinked": 1}}
    assert {r["code"] for r in status["rejections"]} == {"region_required", "region_not_approved"}


def test_a_region_is_refused_where_a_one_region_partner_is_not_approved(metro):
    response = metro.send(
        event(external_id="x", region=YICHANG), event(external_id="y", region=WUHAN)
    )

    assert [r.get("code") for r in response.json()["results"]] == ["region_not_approved", None]
