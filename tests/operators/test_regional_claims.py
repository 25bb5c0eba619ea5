"""A claim from a partner of several regions says where the action happened, as the partner's
events do: without it, or with a region the partner does not serve, it is refused with the feed's
codes; confirmed, it is credited under its city's methodology and shown to the city's operator."""

from datetime import timedelta

import pytest
from django.utils import timezone

from carbonpoints.claims.models import Claim
from carbonpoints.methodologies.models import Methodology
from tests.factories import UserFactory, city_version, funded_budget
from tests.operators.test_claims import file_claim

pytestmark = pytest.mark.django_db

HUBEI, WUHAN, YICHANG, XIANGYANG = "420000", "420100", "420500", "420600"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def two_cities(metro):
    Methodology.objects.update(region_id=HUBEI)
    city_version()
    funded_budget(sponsor__name="Yichang City", region_id=YICHANG)
    metro.partner.regions.set([WUHAN, YICHANG])
    return metro


def test_a_claim_at_a_partner_of_several_regions_names_one_of_them(
    two_cities, linked_citizen_client
):
    without = file_claim(linked_citizen_client, two_cities.partner)
    elsewhere = file_claim(linked_citizen_client, two_cities.partner, region=XIANGYANG)
    filed = file_claim(linked_citizen_client, two_cities.partner, region=YICHANG)

    assert without.status_code == 400 and without.json()["error"]["code"] == "region_required"
    assert elsewhere.status_code == 400
    assert elsewhere.json()["error"]["code"] == "region_not_approved"
    assert filed.status_code == 201, filed.content
    assert filed.json()["region"] == YICHANG
    queue = two_cities.get("/api/v1/partner/claims").json()
    assert [c["region"] for c in queue] == [YICHANG]

    confirmed = two_cities.request("POST", f"/api/v1/partner/claims/{queue[0]['id']}/confirm")

    assert confirmed.json()["record_state"] == "credited"
    record = two_cities.record(queue[0]["external_id"])
    assert record["explanation"]["methodology"]["version"] == 7  # Yichang's own
    assert record["explanation"]["credited_g"] == 720  # 12 km × 60 g


def test_a_claim_at_a_partner_of_one_region_needs_no_region(metro, linked_citizen_client):
    filed = file_claim(linked_citizen_client, metro.partner)

    assert filed.status_code == 201, filed.content
    assert filed.json()["region"] == WUHAN  # the default region, as before regions


def test_a_city_operator_sees_the_claims_of_their_city(two_cities, linked_citizen_client, client):
    for region in (WUHAN, YICHANG):
        filed = file_claim(
            linked_citizen_client,
            two_cities.partner,
            region=region,
            occurred_at=(timezone.now() - timedelta(hours=int(region[3]) + 1)).isoformat(),
        )
        assert filed.status_code == 201, filed.content
    operator = UserFactory(role="operator", is_staff=True, is_superuser=True)
    operator.regions.set([YICHANG])
    client.force_login(operator)

    listed = client.get("/admin/claims/claim/").context["cl"].result_list
    wuhan = Claim.objects.get(region_id=WUHAN)

    assert [c.region_id for c in listed] == [YICHANG]
    assert client.get(f"/admin/claims/claim/{wuhan.pk}/change/").status_code == 403


def test_the_portal_asks_where_only_for_a_partner_of_several_regions(
    metro, linked_citizen_client, client
):
    client.force_login(linked_citizen_client.handler._force_user)
    assert 'name="region"' not in client.get("/me/claims/").content.decode()

    metro.partner.regions.set([WUHAN, YICHANG])
    page = client.get("/me/claims/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert 'name="region"' in page and "宜昌市" in page and "发生地" in page
