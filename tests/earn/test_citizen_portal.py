"""The citizen's portal page once rides are credited: the chart, the equivalents, and why."""

import pytest
from django.test import Client

from .factories import event

pytestmark = pytest.mark.django_db


def test_the_portal_shows_credited_rides_and_why(metro, linked_citizen_client, citizen):
    metro.send(
        event(external_id="ride-1", quantity="12.5"), event(external_id="ride-2", quantity="10")
    )
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(citizen)

    page = browser.get("/me/").content.decode()

    assert (
        "1.05 kg" in page
    )  # 584 g + 467 g, as the account figures say, in the unit that reads best
    assert 'id="daily-chart"' in page and "Nothing credited in the last 30 days yet." not in page
    assert (
        "Metro ride" in page and "地铁出行" not in page
    )  # the methodology's title, not its code, in English
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    chinese.force_login(citizen)
    assert "地铁出行" in chinese.get("/me/").content.decode().replace(
        "地铁出行 Metro ride", ""
    )  # and in Chinese
    assert "(46.7 − 0) g/km × 12.5 = 584 g" in page  # why this many points
    assert "深圳市低碳公共出行碳普惠方法学" in page  # with its source
