"""Local methodologies: a version is the province's or a city's own; an action is quantified by the
most specific version in force where and when it happened; approvals stay inside the region."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from carbonpoints.earn.models import ActionRecord
from carbonpoints.methodologies import services
from carbonpoints.methodologies.models import Methodology
from tests.earn.factories import event
from tests.factories import UserFactory, city_version

pytestmark = pytest.mark.django_db

HUBEI, WUHAN, YICHANG = "420000", "420100", "420500"


@pytest.fixture
def province_wide():
    """The catalogue made the province's: every city inherits it."""
    Methodology.objects.update(region_id=HUBEI)


def yichang_metro(*, valid_from, status=Methodology.Status.IN_FORCE, version=7) -> Methodology:
    return city_version(valid_from=valid_from, status=status, version=version)


def test_a_city_version_quantifies_its_actions_and_the_province_version_the_others(
    province_wide, metro, linked_citizen_client
):
    metro.partner.regions.set([WUHAN, YICHANG])
    own = yichang_metro(valid_from=timezone.now() - timedelta(days=30))

    metro.send(
        event(external_id="wuhan", quantity=10, region=WUHAN),
        event(external_id="yichang", quantity=10, region=YICHANG),
    )

    wuhan, yichang = (
        ActionRecord.objects.select_related("methodology").get(external_id=x)
        for x in ("wuhan", "yichang")
    )
    assert (wuhan.methodology.region_id, wuhan.reduction_g) == (HUBEI, 467)
    assert (yichang.methodology, yichang.reduction_g) == (own, 600)


def test_before_a_city_version_begins_the_province_version_holds(
    province_wide, metro, linked_citizen_client
):
    metro.partner.regions.set([YICHANG])
    yichang_metro(valid_from=timezone.now() - timedelta(minutes=30))

    metro.send(
        event(external_id="early", occurred_at=timezone.now() - timedelta(hours=1)),
        event(external_id="late", occurred_at=timezone.now() - timedelta(minutes=10)),
    )

    assert dict(ActionRecord.objects.values_list("external_id", "methodology__region")) == {
        "early": HUBEI,
        "late": YICHANG,
    }


def test_approving_a_city_version_leaves_the_province_version_in_force(province_wide, settings):
    settings.METHODOLOGY_NOTICE_DAYS = 7
    writer, approver = UserFactory(is_staff=True), UserFactory(is_staff=True)
    start = timezone.now() + timedelta(days=8)
    draft = services.methodology_draft_save(
        author=writer,
        methodology=Methodology(
            code="metro_ride",
            version=9,
            region_id=YICHANG,
            title="Yichang metro",
            unit="km",
            baseline_g_per_unit=Decimal("60"),
            project_g_per_unit=Decimal(0),
            basis="estimate",
            source="demo data",
            valid_from=start,
        ),
    )

    services.methodology_approve(methodology=draft, approver=approver)

    province = Methodology.objects.get(
        code="metro_ride", region_id=HUBEI, status=Methodology.Status.IN_FORCE
    )
    assert province.valid_until is None


def test_the_register_shows_a_city_its_own_versions_and_those_it_inherits(province_wide, client):
    yichang_metro(valid_from=timezone.now() - timedelta(days=1))

    yichang = client.get("/methodologies/", {"region": YICHANG}).content.decode()
    hubei = client.get("/methodologies/", {"region": HUBEI}).content.decode()

    metro_section = yichang.split('id="m-metro_ride"', 1)[1].split("</section>", 1)[0]
    walk_section = yichang.split('id="m-walk"', 1)[1].split("</section>", 1)[0]
    assert "Yichang&#x27;s own" in metro_section or "Yichang's own" in metro_section
    assert "inherited from Hubei" in walk_section
    assert "Yichang metro (demo data)" not in hubei
    assert 'aria-current="page"' in yichang and "Xiangyang" in yichang


def test_a_deployment_of_one_region_shows_no_picker(client):
    page = client.get("/methodologies/").content.decode()

    assert "region-picker" not in page and "inherited" not in page
