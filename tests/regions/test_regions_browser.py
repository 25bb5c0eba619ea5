"""Regions in a real headless Chromium: the operator picks a city on the dashboard and reads the
register of Yichang (its own version, the rest inherited); a citizen picks a home region at
sign-up and sees it on their account page."""

import contextlib
import importlib

import pytest
from django.apps import apps

from carbonpoints.methodologies.models import Methodology
from tests.earn.conftest import PartnerClient
from tests.earn.factories import event, partner_with_key
from tests.factories import UserFactory, city_version, funded_budget
from tests.spend.test_console_browser import chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "an-operators-secret-42"
HUBEI, WUHAN, YICHANG = "420000", "420100", "420500"


@pytest.fixture
def province(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Methodology.objects.exists():  # the catalogue of the data migration, after a flush
        importlib.import_module("carbonpoints.methodologies.migrations.0002_catalogue_v1").forward(
            apps, None
        )
        Methodology.objects.update(status=Methodology.Status.IN_FORCE)
    Methodology.objects.update(region_id=HUBEI)
    city_version(
        code="bus_ride", version=9, title="Yichang bus (demo factor)", baseline="100", project="20"
    )
    funded_budget(sponsor__name="Yichang Ecology Bureau", region_id=YICHANG)
    metro = PartnerClient(
        partner_with_key(name="Metro", actions=["metro_ride", "bus_ride"]),
        lambda execute=True: contextlib.nullcontext(),
    )
    metro.partner.regions.set([WUHAN, YICHANG])
    metro.send(
        event(external_id="w-1", region=WUHAN),
        event(external_id="y-1", region=YICHANG, action="bus_ride"),
    )
    return UserFactory(email="op@example.cn", password=PASSWORD, is_staff=True, is_superuser=True)


def test_the_operator_picks_a_city_and_a_citizen_their_home_region(live_server, province):
    url = live_server.url
    with chromium_page() as page:
        page.goto(f"{url}/admin/login/?next=/admin/")
        page.fill("input[name=username]", province.email)
        page.fill("input[name=password]", PASSWORD)
        page.locator("input[type=submit]").click()
        page.wait_for_selector("#site-name")

        page.goto(f"{url}/operators/dashboard/")
        page.locator("#region-picker a", has_text="Yichang").click()
        page.wait_for_load_state()
        assert "region=420500" in page.url
        assert "Yichang" in page.inner_text("h1")
        assert page.locator("#region-picker a[aria-current=page]").inner_text() == "Yichang"

        page.goto(f"{url}/methodologies/?region={YICHANG}")
        assert "Yichang's own" in page.inner_text("#m-bus_ride")
        assert "inherited from Hubei" in page.inner_text("#m-metro_ride")

        page.context.clear_cookies()
        page.goto(f"{url}/accounts/signup/")
        page.fill("input[name=email]", "he.ping@example.cn")
        page.fill("input[name=password1]", "a-long-secret-42")
        page.fill("input[name=password2]", "a-long-secret-42")
        page.select_option("select[name=home_region]", YICHANG)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_load_state()
        page.goto(f"{url}/me/account/")
        assert page.locator("#home-region select").input_value() == YICHANG
        assert "Yichang" in page.inner_text("#home-region")
