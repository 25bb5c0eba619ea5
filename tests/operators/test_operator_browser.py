"""An operator's day in a real headless Chromium: one operator writes a new methodology version in
the admin, is refused when approving it (four eyes), another approves it; it shows publicly as
coming; then the dashboard's charts are drawn."""

import contextlib
import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from carbonpoints.methodologies.models import Methodology
from tests.earn.conftest import PartnerClient
from tests.earn.factories import event, partner_with_key
from tests.factories import UserFactory
from tests.spend.test_console_browser import chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "an-operators-secret-42"


@pytest.fixture
def operators(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Methodology.objects.exists():  # the catalogue of the data migration, after a flush
        importlib.import_module("carbonpoints.methodologies.migrations.0002_catalogue_v1").forward(
            apps, None
        )
        Methodology.objects.update(status=Methodology.Status.IN_FORCE)
    metro = PartnerClient(
        partner_with_key(name="Metro", actions=["metro_ride"]),
        lambda execute=True: contextlib.nullcontext(),
    )
    metro.send(
        event(external_id="r-1", attributes={"district": "Yuexiu"})
    )  # unlinked: held, then figures
    return [
        UserFactory(email=f"op{n}@example.cn", password=PASSWORD, is_staff=True, is_superuser=True)
        for n in (1, 2)
    ]


def _sign_in(page, url, email):
    page.context.clear_cookies()
    page.goto(f"{url}/admin/login/?next=/admin/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_selector("#site-name")


def _approve(page, url, version_pk):
    page.goto(f"{url}/admin/methodologies/methodology/?status__exact=draft")
    page.locator(f"input[name=_selected_action][value='{version_pk}']").check()
    page.select_option("select[name=action]", "approve")
    page.locator("button[name=index]").click()
    page.wait_for_selector("ul.messagelist")
    return page.inner_text("ul.messagelist")


def test_an_operator_writes_another_approves_then_the_register_and_dashboard(
    live_server, operators
):
    url = live_server.url
    start = timezone.localtime() + timedelta(days=10)
    version_1 = Methodology.objects.get(code="metro_ride", version=1)
    with chromium_page() as page:
        # the first operator writes version 2 from version 1 ("save as new")
        _sign_in(page, url, "op1@example.cn")
        page.goto(f"{url}/admin/methodologies/methodology/{version_1.pk}/change/")
        page.fill("input[name=version]", "2")
        page.fill("input[name=baseline_g_per_unit]", "52.5")
        page.fill("input[name=valid_from_0]", start.strftime("%Y-%m-%d"))
        page.fill("input[name=valid_from_1]", "00:00:00")
        page.locator("input[name=_saveasnew]").click()
        page.wait_for_selector("ul.messagelist")
        draft = Methodology.objects.get(code="metro_ride", version=2)
        assert draft.status == Methodology.Status.DRAFT

        # four eyes: its author may not approve it
        assert "other than the one who wrote" in _approve(page, url, draft.pk)

        # the second operator approves it
        _sign_in(page, url, "op2@example.cn")
        assert "approved" in _approve(page, url, draft.pk)

        # the public register shows it as coming, without sign-in
        page.context.clear_cookies()
        page.goto(f"{url}/methodologies/")
        section = page.inner_text("#m-metro_ride")
        assert "coming" in section and "52.5" in section and start.strftime("%Y-%m-%d") in section

        # the dashboard draws its charts
        _sign_in(page, url, "op2@example.cn")
        page.goto(f"{url}/operators/dashboard/")
        for chart in ("chart-month", "chart-scene", "chart-partner"):
            page.wait_for_selector(f"canvas#{chart}[data-rendered='1']")
            assert page.locator(f"canvas#{chart}").bounding_box()["height"] > 100
        assert (
            page.locator("canvas#chart-district").count() == 0
        )  # no credited action has a district yet
        assert page.inner_text("#queue-depth").strip().isdigit()
