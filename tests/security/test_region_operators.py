"""Operators scoped to regions: a city's operator sees and acts on their city's partners,
methodologies, budgets, merchants, scenarios, records and claims only (another city's answer 403);
a provincial operator sees all; four eyes means two operators with authority over the region."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from carbonpoints.earn.models import ActionRecord
from carbonpoints.methodologies import services as methodology_services
from carbonpoints.methodologies.models import Methodology
from carbonpoints.regions.authority import OutsideRegion
from tests.earn.conftest import PartnerClient
from tests.earn.factories import event, partner_with_key
from tests.factories import UserFactory, funded_budget
from tests.spend.factories import MerchantFactory, ScenarioFactory

pytestmark = pytest.mark.django_db

HUBEI, WUHAN, YICHANG = "420000", "420100", "420500"


def _operator(*regions):
    user = UserFactory(role="operator", is_staff=True, is_superuser=True)
    user.regions.set(regions)
    return user


@pytest.fixture
def province(django_capture_on_commit_callbacks):
    Methodology.objects.update(region_id=HUBEI)
    objects = {}
    for city, name in ((WUHAN, "Wuhan"), (YICHANG, "Yichang")):
        partner = PartnerClient(
            partner_with_key(name=f"{name} Metro", actions=["metro_ride"]),
            django_capture_on_commit_callbacks,
        )
        partner.partner.regions.set([city])
        partner.send(event(external_id=f"{name}-1"))
        merchant = MerchantFactory(region_id=city, name=f"{name} Shop")
        objects[city] = {
            "earn/partner": partner.partner.pk,
            "earn/actionrecord": ActionRecord.objects.get(external_id=f"{name}-1").pk,
            "budgets/budget": funded_budget(sponsor__name=f"{name} City", region_id=city).pk,
            "redemption/merchant": merchant.pk,
            "redemption/scenario": ScenarioFactory(merchant=merchant).pk,
            "methodologies/methodology": Methodology.objects.create(
                code="metro_ride",
                version=10 + len(objects),
                region_id=city,
                title=f"{name} metro",
                unit="km",
                baseline_g_per_unit=Decimal(50),
                project_g_per_unit=Decimal(0),
                basis="estimate",
                source="demo",
                valid_from=timezone.now() + timedelta(days=30),
            ).pk,
        }
    return objects


@pytest.mark.parametrize(
    "model",
    [
        "earn/partner",
        "earn/actionrecord",
        "budgets/budget",
        "redemption/merchant",
        "redemption/scenario",
        "methodologies/methodology",
    ],
)
def test_a_city_operator_sees_their_city_only_and_a_provincial_one_all(province, client, model):
    yichang_op, provincial = _operator(YICHANG), _operator()

    client.force_login(yichang_op)
    own = client.get(f"/admin/{model}/{province[YICHANG][model]}/change/")
    other = client.get(f"/admin/{model}/{province[WUHAN][model]}/change/")
    listed = client.get(f"/admin/{model}/").context["cl"].result_list
    client.force_login(provincial)
    everywhere = client.get(f"/admin/{model}/").context["cl"].result_list

    assert (own.status_code, other.status_code) == (200, 403)
    assert {o.pk for o in listed} == {province[YICHANG][model]}
    assert {o.pk for o in everywhere} >= {province[YICHANG][model], province[WUHAN][model]}


def test_a_yichang_operator_cannot_see_a_wuhan_record(province, client):
    client.force_login(_operator(YICHANG))

    assert (
        client.get(
            f"/admin/earn/actionrecord/{province[WUHAN]['earn/actionrecord']}/change/"
        ).status_code
        == 403
    )
    page = client.get("/admin/earn/actionrecord/").content.decode()
    assert "Yichang-1" in page and "Wuhan-1" not in page


def test_four_eyes_need_two_operators_of_the_region(province, settings):
    settings.METHODOLOGY_NOTICE_DAYS = 7
    draft = Methodology.objects.get(pk=province[WUHAN]["methodologies/methodology"])
    draft.written_by = _operator(WUHAN)
    draft.save()

    with pytest.raises(OutsideRegion):
        methodology_services.methodology_approve(methodology=draft, approver=_operator(YICHANG))
    approved = methodology_services.methodology_approve(
        methodology=draft, approver=_operator(HUBEI)
    )

    assert approved.status == Methodology.Status.APPROVED


def test_a_city_operator_dashboard_shows_their_city(province, client):
    client.force_login(_operator(YICHANG))

    page = client.get("/operators/dashboard/", {"region": WUHAN})

    assert page.context["region"] == YICHANG
    assert [r.code for r in page.context["picker"].regions] == [YICHANG]


def test_an_operator_of_no_region_works_as_before(province, client):
    client.force_login(_operator())

    assert (
        client.get(
            f"/admin/earn/actionrecord/{province[WUHAN]['earn/actionrecord']}/change/"
        ).status_code
        == 200
    )
    assert client.get("/operators/dashboard/").context["region"] is None
