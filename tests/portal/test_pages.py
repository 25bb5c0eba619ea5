"""The citizen's portal pages: history, points, partner links with consent per scene, vouchers, account."""

import io
import zipfile

import pytest
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from carbonpoints.earn.models import IdentityLink
from carbonpoints.units import mass
from tests.earn.factories import event
from tests.factories import CitizenFactory, accruals_posted
from tests.spend.factories import ScenarioFactory, give_points

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(citizen) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(citizen)
    return client


@translation.override("en")
def test_masses_read_in_g_kg_or_t():
    assert [mass(g) for g in (467, 999, 1000, 12_345, 123_456, 1_051_000, None)] == [
        "467 g",
        "999 g",
        "1.00 kg",
        "12.3 kg",
        "123 kg",
        "1.05 t",
        "–",
    ]


def test_money_rates_and_points_read_as_people_write_them():
    from decimal import Decimal

    from carbonpoints.units import trimmed, yuan

    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert [yuan(f) for f in (3550, 1065, 0, -5, 123_456_789, None)] == [
                "¥35.50",
                "¥10.65",
                "¥0.00",
                "-¥0.05",
                "¥1,234,567.89",
                "–",
            ]
            assert [trimmed(Decimal(r)) for r in ("0.050000", "100.0", "12345.60")] == [
                "0.05",
                "100",
                "12,345.6",
            ]
            assert mass(3_317_146_000) == "3,317 t"


def test_every_page_opens_with_the_same_navigation(browser):
    for url in [
        "/me/",
        "/me/actions/",
        "/me/points/",
        "/me/links/",
        "/me/redemptions/",
        "/me/certificates/",
        "/me/account/",
    ]:
        page = browser.get(url)
        assert page.status_code == 200, url
        text = page.content.decode()
        assert 'nav class="citizen"' in text and 'aria-current="page"' in text, url


def test_pages_are_for_citizens_only(client):
    assert client.get("/me/actions/").status_code == 302  # to sign-in
    from tests.factories import UserFactory

    client.force_login(UserFactory(role="merchant_staff"))
    assert client.get("/me/links/").status_code == 403


def test_linking_a_partner_for_two_scenes_through_the_form(
    browser, metro, django_capture_on_commit_callbacks
):
    bike = metro.partner
    bike.actions = ["bike_ride", "bus_ride", "metro_ride"]
    bike.save()
    form = browser.get("/me/links/").content.decode()
    assert "Metro ride" in form and "Bike ride" in form and "I agree that Metro shares" in form

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            "/me/links/",
            {
                "partner_id": bike.pk,
                f"p{bike.pk}-subject": "W-1",
                f"p{bike.pk}-scenes": ["metro_ride", "bus_ride"],
                f"p{bike.pk}-consent": "on",
            },
        )

    assert response.status_code == 302
    link = IdentityLink.objects.get()
    assert link.scenes == ["bus_ride", "metro_ride"] and "Bike ride" not in link.consent_wording
    page = browser.get("/me/links/").content.decode()
    assert "W-1" in page and "Bus ride" in page


def test_linking_without_consent_shows_the_form_again(browser, metro):
    response = browser.post(
        "/me/links/",
        {
            "partner_id": metro.partner.pk,
            f"p{metro.partner.pk}-subject": "W-2",
            f"p{metro.partner.pk}-scenes": ["metro_ride"],
        },
    )
    assert response.status_code == 200 and not IdentityLink.objects.exists()
    assert "This field is required." in response.content.decode()


def test_a_member_id_another_account_holds_is_refused_on_the_form_not_silently(browser, metro):
    from rest_framework.test import APIClient

    other = APIClient()
    other.force_authenticate(CitizenFactory())
    assert (
        other.post(
            "/api/v1/me/links",
            {"partner_id": metro.partner.pk, "subject": "W-9", "consent": True},
            format="json",
        ).status_code
        == 201
    )

    pk = metro.partner.pk
    response = browser.post(
        "/me/links/",
        {
            "partner_id": pk,
            f"p{pk}-subject": "W-9",
            f"p{pk}-scenes": ["metro_ride"],
            f"p{pk}-consent": "on",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200 and IdentityLink.objects.count() == 1
    assert (
        '<li class="error" role="alert">Metro was not linked: see why in its form below.</li>'
        in page
    )
    form = page[page.index(f'name="partner_id" value="{pk}"') :]
    assert "This member id is linked to another account." in form[: form.index("</form>")]
    assert 'value="W-9"' in form[: form.index("</form>")]  # what the citizen typed is kept


def test_changing_scenes_and_revoking_through_the_page(browser, citizen_client, metro):
    link_id = citizen_client.post(
        "/api/v1/me/links",
        {"partner_id": metro.partner.pk, "subject": "W-3", "consent": True},
        format="json",
    ).json()["id"]

    browser.post(
        f"/me/links/{link_id}/scenes",
        {f"l{link_id}-scenes": ["bus_ride"], f"l{link_id}-consent": "on"},
    )
    assert IdentityLink.objects.get().scenes == ["bus_ride"]
    browser.post(f"/me/links/{link_id}/revoke")
    assert IdentityLink.objects.get().revoked_at is not None
    history = [c.kind for c in IdentityLink.objects.get().consent_history.all()]
    assert history == ["granted", "changed", "revoked"]


def test_irreversible_acts_ask_once(browser, citizen_client, metro):
    ScenarioFactory(title="Tote bag", points_cost=1200)
    citizen_client.post(
        "/api/v1/me/links",
        {"partner_id": metro.partner.pk, "subject": "W-5", "consent": True},
        format="json",
    )
    links = browser.get("/me/links/").content.decode()
    assert (
        'data-confirm="Revoke the link to Metro? Nothing more will be credited from it until you link again."'
        in links
    )
    wallet = browser.get("/me/wallet/").content.decode()
    assert 'data-confirm="Redeem “Tote bag” for 1,200 points?"' in wallet


def test_another_citizens_link_cannot_be_changed(browser, metro):
    from rest_framework.test import APIClient

    other = APIClient()
    other.force_authenticate(CitizenFactory())
    link_id = other.post(
        "/api/v1/me/links",
        {"partner_id": metro.partner.pk, "subject": "W-4", "consent": True},
        format="json",
    ).json()["id"]

    assert browser.post(f"/me/links/{link_id}/revoke").status_code == 404
    assert "W-4" not in browser.get("/me/links/").content.decode()
    assert IdentityLink.objects.get().revoked_at is None


def test_history_filters_by_type_and_state_and_pages(
    browser, linked_citizen_client, metro, settings
):
    metro.send(
        *[event(external_id=f"m{n}") for n in range(21)],
        event(external_id="bus", action="bus_ride", quantity=5),
        event(external_id="far", quantity=500),
    )

    everything = browser.get("/me/actions/").content.decode()
    assert "23 actions" in everything and "Page 1 of 2" in everything
    assert "Page 2 of 2" in browser.get("/me/actions/?page=2").content.decode()
    buses = browser.get("/me/actions/?action=bus_ride").content.decode()
    assert "1 action" in buses and 'data-action="metro_ride"' not in buses
    rejected = browser.get("/me/actions/?state=rejected").content.decode()
    assert rejected.count('class="action-row"') == 1 and "plausible maximum" in rejected
    assert (
        "No actions match."
        in browser.get("/me/actions/?since=2000-01-01&until=2000-01-02").content.decode()
    )


def test_the_points_page_lists_movements_with_balances(browser, linked_citizen_client, metro):
    metro.send(event(external_id="ride"))
    accruals_posted()

    page = browser.get("/me/points/").content.decode()

    assert "Actions credited" in page and "+46" in page


def test_a_points_line_shows_the_citizens_own_actions_behind_it(
    browser, linked_citizen_client, metro, link
):
    neighbour = APIClient()
    neighbour.force_authenticate(CitizenFactory())
    assert link(neighbour, metro.partner, "member-2").status_code == 201
    metro.send(
        event(external_id="ride-1", quantity=10),
        event(external_id="ride-2", quantity=3),
        event(external_id="neighbour", subject="member-2", quantity=50),
    )
    assert neighbour.get("/api/v1/me/account").json()["reduction_g"] == 2335  # credited, theirs
    accruals_posted()

    page = browser.get("/me/points/").content.decode()

    line = page[
        page.index('class="behind"') : page.index("</details>", page.index('class="behind"'))
    ]
    assert "2 actions" in line and line.count("<li>") == 2  # the neighbour's ride is not listed
    assert (
        "467 g · +46" in line and "140 g · +14" in line
    )  # 10 and 3 km of metro at 46.7 g/km, 10 g a point


def test_vouchers_show_their_qr_code(browser, citizen, citizen_client):
    give_points(citizen, 100)
    scenario = ScenarioFactory(points_cost=40, title="Free tea")
    citizen_client.post(
        "/api/v1/redemptions",
        {"scenario_id": scenario.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="v1",
    )

    page = browser.get("/me/redemptions/").content.decode()

    assert "Free tea" in page and "<svg" in page and 'data-state="valid"' in page


def test_the_account_page_downloads_a_zip_and_explains_deletion(
    browser, linked_citizen_client, metro
):
    metro.send(event(external_id="ride"))
    page = browser.get("/me/account/").content.decode()
    assert "What stays, and why" in page

    download = browser.get("/me/account/export.zip")

    assert download["Content-Type"] == "application/zip"
    assert "ride" in zipfile.ZipFile(io.BytesIO(download.content)).read("actions.csv").decode(
        "utf-8-sig"
    )


def test_a_large_export_shows_progress_then_downloads(
    browser, linked_citizen_client, metro, settings, django_capture_on_commit_callbacks
):
    metro.send(event(external_id="ride"))
    settings.PRIVACY_EXPORT_SYNC_MAX_ROWS = 0

    assert browser.get("/me/account/export.zip").status_code == 302
    assert "Being prepared" in browser.get("/me/account/").content.decode()
    from carbonpoints.privacy.models import DataExport
    from carbonpoints.privacy.tasks import build_export

    build_export.delay(str(DataExport.objects.get().pk))
    page = browser.get("/me/account/").content.decode()
    assert "Download the export of" in page
    export_id = DataExport.objects.get().pk
    assert browser.get(f"/me/account/exports/{export_id}.zip")["Content-Type"] == "application/zip"


def test_deleting_from_the_page_needs_the_password(browser, citizen):
    wrong = browser.post("/me/account/delete", {"password": "nope", "confirm": "on"})
    assert wrong.status_code == 400 and "The password is not correct." in wrong.content.decode()

    done = browser.post(
        "/me/account/delete", {"password": "correct-horse-battery", "confirm": "on"}
    )

    assert done.status_code == 200 and "Your account is deleted" in done.content.decode()
    citizen.refresh_from_db()
    assert not citizen.is_active
    assert browser.get("/me/").status_code == 302


def test_bilingual_names_read_in_the_readers_language():
    from carbonpoints.names import local_name

    assert [local_name("深圳地铁 Shenzhen Metro", lang) for lang in ("zh-hans", "en")] == [
        "深圳地铁",
        "Shenzhen Metro",
    ]
    assert [local_name("电动车充电 EV charging", lang) for lang in ("zh-hans", "en")] == [
        "电动车充电",
        "EV charging",
    ]
    assert [local_name("Metro", lang) for lang in ("zh-hans", "en")] == [
        "Metro",
        "Metro",
    ]  # one language: as it is
    assert local_name("绿色出行", "en") == "绿色出行" and local_name(None) == ""


def test_chinese_pages_show_no_codes_and_no_english_names(citizen, linked_citizen_client, metro):
    from carbonpoints.earn.models import Partner
    from tests.operators.test_claims import file_claim

    Partner.objects.filter(pk=metro.partner.pk).update(name="深圳地铁 Shenzhen Metro")
    metro.send(event(external_id="ride-1"))
    assert file_claim(linked_citizen_client, metro.partner).status_code == 201
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    chinese.force_login(citizen)

    history = chinese.get("/me/actions/").content.decode()
    assert "地铁出行" in history and "深圳地铁" in history
    assert "Metro ride" not in history and "Shenzhen Metro" not in history
    claims = chinese.get("/me/claims/").content.decode()
    assert '<td class="main">地铁出行 (' in claims and ">metro_ride<" not in claims
    assert "12 km" in claims  # with its unit


@translation.override("zh-hans")
def test_ledger_movements_are_words_never_codes():
    from carbonpoints.portal.templatetags.carbon import movement

    assert movement("earn_reversal") == "行为已撤销：相应积分已收回"
    assert movement("a_kind_added_later") == "其他变动"


def test_the_admin_reads_as_one_language(admin_client):
    index = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "碳积分运营后台" in index and "Django 管理" not in index
    assert "后台任务结果" in index and "Celery Results" not in index and "Model name" not in index
    assert "最近动作" in index and "近期行为" not in index  # Django's own words, not the portal's


def test_the_account_page_links_to_changing_the_password_and_the_email(browser):
    page = browser.get("/me/account/").content.decode()
    assert 'id="change-password" href="/accounts/password/change/"' in page
    assert 'id="change-email" href="/accounts/email/"' in page
    assert browser.get("/accounts/password/change/").status_code == 200


def test_no_payment_code_is_issued_without_points(browser, citizen):
    from redemption.models import PaymentCode

    wallet = browser.get("/me/wallet/").content.decode()
    assert 'id="no-points"' in wallet and "Show a payment code" not in wallet
    asked = browser.post("/me/wallet/").content.decode()
    assert not PaymentCode.objects.exists()
    assert (
        '<li class="error" role="alert">You have no points to pay with yet: a payment code needs points.</li>'
        in asked
    )

    give_points(citizen, 10)
    browser.post("/me/wallet/")
    assert PaymentCode.objects.filter(citizen=citizen.carbon_account).count() == 1


def test_a_new_citizen_sees_first_steps_and_the_next_voucher_within_reach(
    client, citizen, linked_citizen_client, metro
):
    ScenarioFactory(title="Free tea", points_cost=100)
    ScenarioFactory(title="Tote bag", points_cost=900)
    client.force_login(citizen)

    page = client.get("/me/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="first-steps"' in page
    assert (
        '<li class="done" data-step="link">' in page
        and '<li class="done" data-step="consent">' in page
    )
    assert '<li class="" data-step="credit">' in page and '<li class="" data-step="redeem">' in page
    assert "100 more points for “Free tea”" in page

    metro.send(event(external_id="ride-1", quantity="10"))
    page = client.get("/me/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<li class="done" data-step="credit">' in page
    assert "1 day" in page and 'id="streak"' in page
