"""A city's merchant may offer a scenario in every city of the province: it asks in the API or the
console, and the scenario waits until an operator of the province approves it (a city's operator
alone cannot); a deployment of one region offers no such choice."""

import pytest

from carbonpoints.regions.authority import OutsideRegion
from redemption.models import Scenario
from redemption.services import scenario_transition
from tests.factories import UserFactory

from .conftest import client_for
from .factories import MerchantFactory, StaffFactory

pytestmark = pytest.mark.django_db

HUBEI, WUHAN, YICHANG = "420000", "420100", "420500"


def _operator(*regions):
    user = UserFactory(role="operator", is_staff=True, is_superuser=True)
    user.regions.set(regions)
    return user


@pytest.fixture
def yichang_manager():
    MerchantFactory(region_id=WUHAN)
    return StaffFactory(merchant=MerchantFactory(region_id=YICHANG))


def _in_catalogue(citizen, region, scenario_id) -> bool:
    rows = client_for(citizen).get("/api/v1/scenarios", {"region": region}).json()["results"]
    return any(row["id"] == scenario_id for row in rows)


def test_a_city_merchant_offers_a_scenario_province_wide_once_the_province_approves(
    yichang_manager, make_citizen
):
    created = client_for(yichang_manager.user).post(
        "/api/v1/merchant/scenarios",
        {"kind": "voucher", "title": "Three Gorges tea", "points_cost": 200, "province_wide": True},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "pending_review"  # even with review switched off
    scenario = Scenario.objects.get(pk=created.json()["id"])
    citizen = make_citizen()
    assert not _in_catalogue(citizen, WUHAN, scenario.pk)

    with pytest.raises(OutsideRegion):
        scenario_transition(scenario=scenario, action="approve", actor=_operator(YICHANG))
    approved = scenario_transition(scenario=scenario, action="approve", actor=_operator(HUBEI))

    assert approved.status == Scenario.Status.LIVE and approved.province_wide
    assert _in_catalogue(citizen, WUHAN, scenario.pk) and _in_catalogue(
        citizen, YICHANG, scenario.pk
    )


def test_a_scenario_of_its_own_city_is_live_at_once_as_before(yichang_manager, make_citizen):
    created = client_for(yichang_manager.user).post(
        "/api/v1/merchant/scenarios",
        {"kind": "voucher", "title": "Yichang only", "points_cost": 200},
        format="json",
    )

    assert created.json()["status"] == "live"
    assert not _in_catalogue(make_citizen(), WUHAN, created.json()["id"])


def test_the_console_offers_province_wide_only_where_merchants_trade_in_several_regions(
    client, yichang_manager
):
    client.force_login(yichang_manager.user)
    page = client.get("/merchant/scenarios/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    client.post(
        "/merchant/scenarios/",
        {"kind": "voucher", "title": "Province tea", "points_cost": 50, "province_wide": "on"},
    )

    assert "在全省各城市提供" in page
    scenario = Scenario.objects.get(title="Province tea")
    assert scenario.province_wide and scenario.status == Scenario.Status.PENDING_REVIEW


def test_a_deployment_of_one_region_offers_no_province_wide_choice(client, manager):
    client.force_login(manager.user)

    assert 'name="province_wide"' not in client.get("/merchant/scenarios/").content.decode()


def test_in_the_admin_only_an_operator_of_the_province_sets_province_wide(client, yichang_manager):
    scenario = Scenario.objects.create(
        merchant=yichang_manager.merchant, kind="voucher", title="Tea", points_cost=10
    )
    client.force_login(_operator(YICHANG))
    city = client.get(f"/admin/redemption/scenario/{scenario.pk}/change/")
    client.force_login(_operator(HUBEI))
    province = client.get(f"/admin/redemption/scenario/{scenario.pk}/change/")

    assert "province_wide" not in city.context["adminform"].form.fields
    assert "province_wide" in province.context["adminform"].form.fields


def test_in_the_admin_a_city_operator_approving_a_province_wide_scenario_is_told_no(
    client, yichang_manager
):
    scenario = Scenario.objects.create(
        merchant=yichang_manager.merchant,
        kind="voucher",
        title="Tea",
        points_cost=10,
        province_wide=True,
        status=Scenario.Status.PENDING_REVIEW,
    )
    client.force_login(_operator(YICHANG))

    page = client.post(
        "/admin/redemption/scenario/",
        {"action": "approve", "_selected_action": [scenario.pk]},
        follow=True,
    )

    assert page.status_code == 200
    assert "not an operator of" in page.content.decode()
    scenario.refresh_from_db()
    assert scenario.status == Scenario.Status.PENDING_REVIEW
