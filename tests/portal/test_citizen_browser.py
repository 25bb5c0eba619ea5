"""A citizen's whole journey in a real headless Chromium (Debian's, through Playwright).

Sign up, link a partner for two of its three scenes, see the held rides credited and the chart
drawn, filter the history, redeem and see the voucher's QR, read the notification, switch to
Chinese, export, delete the account.
"""

import contextlib
import importlib
import io
import zipfile
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connections
from django.utils import timezone

from carbonpoints.notifications.services import notifications_collect
from tests.earn.conftest import PartnerClient
from tests.earn.factories import event, partner_with_key
from tests.spend.factories import ScenarioFactory
from tests.spend.test_console_browser import chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL, PASSWORD = "lin.xiao@example.cn", "a-long-secret-42"


@pytest.fixture
def city(monkeypatch):
    """Levels, badges and a partner approved for three scenes that already sent rides for member B-1.

    Playwright's sync API runs an event loop in the test's thread; the test's own database work
    (the partner's requests, the notification collector standing in for celery beat) is plain
    synchronous code between browser steps, so Django is told to allow it there.
    """
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    importlib.import_module("accounts.migrations.0005_levels_as_data").seed_levels(apps, None)
    importlib.import_module("carbonpoints.evaluation.migrations.0002_badges_v1").seed(apps, None)
    metro = PartnerClient(
        partner_with_key(name="Metro", actions=["metro_ride", "bus_ride", "bike_ride"]),
        lambda execute=True: contextlib.nullcontext(),
    )
    now = timezone.now()
    metro.send(
        *[
            event(external_id=f"metro-{n}", subject="B-1", occurred_at=now - timedelta(days=n))
            for n in range(3)
        ],
        event(external_id="bus-1", subject="B-1", action="bus_ride", quantity=8),
        event(external_id="bike-1", subject="B-1", action="bike_ride", quantity=5),
    )
    ScenarioFactory(title="Free tea", points_cost=100)
    return metro


def test_a_citizen_signs_up_links_earns_redeems_exports_and_deletes(live_server, city, tmp_path):
    url = live_server.url
    with chromium_page() as page:
        page.goto(f"{url}/accounts/signup/")
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=password1]", PASSWORD)
        page.fill("input[name=password2]", PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_load_state()

        # link the partner for two of its three scenes
        page.goto(f"{url}/me/links/")
        form = page.locator("form.link-form[data-partner=Metro]")
        assert "I agree that Metro shares" in form.inner_text()
        form.locator("input[name$=subject]").fill("B-1")
        form.locator("input[value=bike_ride]").uncheck()
        form.locator("input[name$=consent]").check()
        form.locator("button[type=submit]").click()
        page.wait_for_selector("text=Linked Metro.")
        assert "Bus ride" in page.inner_text("#my-links") and "Bike ride" not in page.inner_text(
            "#my-links"
        )

        # credited actions and the chart
        page.goto(f"{url}/me/")
        page.wait_for_selector("canvas#daily-chart[data-rendered='1']")
        assert page.locator("canvas#daily-chart").bounding_box()["height"] > 100
        assert (
            page.inner_text("#total") == "1.62 kg"
        )  # 3 × 467 g + 215 g, the bike ride not consented to

        # filter the history
        page.goto(f"{url}/me/actions/")
        page.select_option("select[name=action]", "bus_ride")
        page.locator("#history-filters button[type=submit]").click()
        page.wait_for_url("**action=bus_ride**")
        assert page.locator("tr.action-row").count() == 1
        page.goto(f"{url}/me/actions/?state=credited")
        assert page.locator("tr.action-row").count() == 4
        assert (
            page.locator("tr.action-row[data-action=bike_ride]").count() == 0
        )  # no consent: not the citizen's

        # redeem (saying yes to the one question it asks) and see the voucher's QR
        questions = []
        page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
        page.goto(f"{url}/me/wallet/")
        page.locator("tr", has_text="Free tea").locator("button[type=submit]").click()
        page.wait_for_selector("text=Redeemed: Free tea.")
        assert questions == ["Redeem “Free tea” for 100 points?"]
        page.goto(f"{url}/me/redemptions/")
        assert page.locator(".voucher[data-state=valid] .qr svg").count() == 1

        # read the notification the worker left
        notifications_collect(now=timezone.now() + timedelta(minutes=3))
        connections.close_all()  # Playwright's greenlet got a connection of its own: leave none open
        page.goto(f"{url}/me/")
        assert page.inner_text("#unread-badge") == "1"
        page.click("#nav-notifications")
        assert "Thanks to your link, 4 held actions were credited" in page.inner_text("#inbox")
        page.click("#mark-all-read")
        page.wait_for_load_state()
        assert page.locator("#unread-badge").count() == 0

        # switch to Chinese
        page.goto(f"{url}/me/account/")
        page.select_option("#language-form select[name=language]", "zh-hans")
        page.locator("#language-form button[type=submit]").click()
        page.wait_for_selector("h1:has-text('我的账户')")

        # export
        with page.expect_download() as download:
            page.click("#export-link")
        path = tmp_path / "export.zip"
        download.value.save_as(path)
        archive = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
        assert "metro-0" in archive.read("actions.csv").decode("utf-8-sig")

        # delete the account
        page.fill("#delete-form input[name=password]", PASSWORD)
        page.check("#delete-form input[name=confirm]")
        page.click("#delete-form button[type=submit]")
        page.wait_for_selector("text=您的账户已注销")
        page.goto(f"{url}/accounts/login/")
        page.fill("input[name=login]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_load_state()
        assert "/accounts/login/" in page.url
