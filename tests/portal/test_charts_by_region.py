"""The portal's chart shows where each action happened: a citizen who rode in Wuhan and in
Yichang sees the days' bars stacked per city and the grams of each city; a citizen of one region
sees the chart as it always was."""

from datetime import timedelta

import pytest
from django.utils import timezone

from carbonpoints.methodologies.models import Methodology
from tests.earn.factories import event
from tests.factories import funded_budget

pytestmark = pytest.mark.django_db

WUHAN, YICHANG = "420100", "420500"


def _home(client, citizen_client, language="en"):
    client.force_login(citizen_client.handler._force_user)
    return client.get("/me/", HTTP_ACCEPT_LANGUAGE=language)


def test_the_chart_is_stacked_by_city_for_a_citizen_who_rode_in_two(
    metro, linked_citizen_client, client
):
    funded_budget(sponsor__name="Yichang City", region_id=YICHANG)
    metro.partner.regions.set([WUHAN, YICHANG])
    Methodology.objects.update(region_id="420000")  # the province's catalogue
    metro.send(
        event(external_id="w", quantity=10, region=WUHAN),
        event(
            external_id="y",
            quantity=3,
            region=YICHANG,
            occurred_at=(timezone.now() - timedelta(hours=3)).isoformat(),
        ),
    )

    page = _home(client, linked_citizen_client)
    chart = page.context["chart_data"]
    zh = _home(client, linked_citizen_client, "zh-hans").content.decode()

    assert [(s["region"], s["label"], sum(s["values"])) for s in chart["stacks"]] == [
        (WUHAN, "Wuhan", 467),
        (YICHANG, "Yichang", 140),
    ]
    assert sum(chart["values"]) == 607  # the days' totals, as before
    assert [(r["region"], r["grams"]) for r in page.context["by_region"]] == [
        (WUHAN, 467),
        (YICHANG, 140),
    ]
    assert "by where it happened" in page.content.decode()
    assert "发生地：" in zh and "武汉市" in zh and "宜昌市" in zh


def test_a_citizen_of_one_region_sees_the_chart_as_before(metro, linked_citizen_client, client):
    metro.send(event(external_id="w", quantity=10))

    page = _home(client, linked_citizen_client)

    assert "stacks" not in page.context["chart_data"]
    assert page.context["by_region"] == []
    assert 'id="by-region"' not in page.content.decode()
