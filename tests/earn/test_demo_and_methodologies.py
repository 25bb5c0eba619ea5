"""The demo city's earn side, and methodologies as versioned data with a pure quantification."""

import json
import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import User
from carbonpoints.earn.models import ActionRecord, Partner
from carbonpoints.methodologies.models import ConversionRule, Methodology
from carbonpoints.methodologies.quantify import points_for, reduction_g
from tests.factories import UserFactory

from .factories import event

pytestmark = pytest.mark.django_db


def test_the_catalogue_is_loaded_with_factors_sources_and_limits():
    catalogue = {m.code: m for m in Methodology.objects.all()}

    assert set(catalogue) == {
        "metro_ride",
        "bus_ride",
        "bike_ride",
        "walk",
        "ev_charge",
        "e_receipt",
        "recycling",
        "no_cutlery",
    }
    assert catalogue["metro_ride"].net_g_per_unit == Decimal("46.7")
    assert catalogue["ev_charge"].net_g_per_unit == Decimal("503.7")
    assert catalogue["walk"].daily_cap == 20000 and catalogue["bike_ride"].max_speed_kmh == 25
    assert (
        catalogue["e_receipt"].basis == "estimate" and catalogue["metro_ride"].basis == "published"
    )
    assert all(m.source for m in catalogue.values())
    assert ConversionRule.objects.get().grams_per_point == 10


def test_quantification_rounds_half_to_even_in_decimal():
    assert (
        reduction_g(
            quantity=Decimal("2.5"), baseline_g_per_unit=Decimal(1), project_g_per_unit=Decimal(0)
        )
        == 2
    )
    assert (
        reduction_g(
            quantity=Decimal("3.5"), baseline_g_per_unit=Decimal(1), project_g_per_unit=Decimal(0)
        )
        == 4
    )
    assert (
        reduction_g(
            quantity=Decimal("10"),
            baseline_g_per_unit=Decimal("1074"),
            project_g_per_unit=Decimal("570.3"),
        )
        == 5037
    )


@given(
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=30),
    st.integers(min_value=1, max_value=50),
)
def test_carried_remainders_lose_no_gram(grams_list, grams_per_point):
    carried, points = 0, 0
    for grams in grams_list:
        earned, carried = points_for(
            grams=grams, carried_g=carried, grams_per_point=grams_per_point
        )
        points += earned
        assert 0 <= carried < grams_per_point
    assert points * grams_per_point + carried == sum(grams_list)


def test_a_new_version_applies_from_its_start_and_never_rewrites_history(
    metro, linked_citizen_client
):
    switch = timezone.now() - timedelta(days=1)
    Methodology.objects.filter(code="metro_ride", version=1).update(valid_until=switch)
    Methodology.objects.create(
        code="metro_ride",
        version=2,
        title="Metro v2",
        unit="km",
        baseline_g_per_unit=Decimal("50"),
        project_g_per_unit=Decimal("0"),
        basis="published",
        source="a newer study",
        valid_from=switch,
        daily_cap=100,
        status=Methodology.Status.IN_FORCE,
    )

    metro.send(
        event(external_id="before", quantity=10, occurred_at=switch - timedelta(hours=2)),
        event(external_id="after", quantity=10, occurred_at=switch + timedelta(hours=2)),
    )

    before, after = metro.record("before")["explanation"], metro.record("after")["explanation"]
    assert (before["methodology"]["version"], before["credited_g"]) == (1, 467)
    assert (after["methodology"]["version"], after["credited_g"]) == (2, 500)


def test_versions_of_a_methodology_may_not_overlap():
    from django.core.exceptions import ValidationError

    clash = Methodology(
        code="metro_ride",
        version=9,
        title="x",
        unit="km",
        baseline_g_per_unit=1,
        project_g_per_unit=0,
        basis="estimate",
        source="x",
        valid_from=timezone.now(),
        status=Methodology.Status.APPROVED,
    )
    with pytest.raises(ValidationError):
        clash.full_clean()


def test_operators_see_methodologies_partners_and_records_in_the_admin(client, metro):

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    metro.send(event())
    methodology = Methodology.objects.get(code="walk")
    for url in [
        "/admin/methodologies/methodology/",
        f"/admin/methodologies/methodology/{methodology.pk}/change/",
        "/admin/methodologies/conversionrule/",
        "/admin/earn/partner/",
        f"/admin/earn/partner/{metro.partner.pk}/change/",
        "/admin/earn/batch/",
        "/admin/earn/upload/",
        "/admin/earn/actionrecord/",
        "/admin/earn/reviewdecision/",
        "/admin/earn/citizencarry/",
        "/admin/earn/identitylink/",
        "/admin/earn/partnerkey/",
        f"/admin/earn/partnerkey/{metro.credentials.key.pk}/change/",
    ]:
        assert client.get(url).status_code == 200, url


def test_seed_demo_runs_partners_and_weeks_of_actions_through_the_pipeline(capsys):
    call_command("seed_demo", "--citizens", "6", "--json")
    call_command("seed_demo", "--citizens", "6", "--json")
    out = capsys.readouterr().out
    assert [json.loads(line)["password"] for line in out.splitlines()] == ["carbon-demo-2026"] * 2

    assert (
        Partner.objects.filter(status=Partner.Status.ACTIVE).count() == 6
    )  # Wuhan's 4, a bus in Yichang and Xiangyang
    assert set(ActionRecord.objects.values_list("region", flat=True)) == {
        "420100",
        "420500",
        "420600",
    }
    yichang_bus = ActionRecord.objects.filter(
        region="420500", action="bus_ride", state="credited"
    ).first()
    assert yichang_bus is not None and yichang_bus.methodology.region_id == "420500"
    assert "DEMO DATA" in yichang_bus.methodology.source
    credited = ActionRecord.objects.filter(state="credited").count()
    assert credited > 100
    assert ActionRecord.objects.filter(state="unlinked").exists()
    citizen = User.objects.get(email="citizen1@demo.carbonpoints.cn").carbon_account
    assert citizen.actions.filter(state="credited").exists()
    assert citizen.actions.filter(state="reversed", reason="reversed_by_operator").count() == 1
    call_command("ledger_check")


def test_the_demo_is_coherent(capsys):
    """The demo's city funds its own metro, its revisions cite their own figures, its consents are sentences."""
    from carbonpoints.budgets.demo import CITY
    from carbonpoints.budgets.models import Sponsor
    from carbonpoints.earn.models import IdentityLink
    from carbonpoints.methodologies.models import Methodology

    call_command("seed_demo", "--citizens", "6", "--json")
    capsys.readouterr()

    city = Sponsor.objects.get(name=CITY)
    metro = Partner.objects.get(actions__contains=["metro_ride"], status=Partner.Status.ACTIVE)
    assert city.name.startswith("武汉") and metro.name.startswith(
        "武汉"
    )  # the same city: Hubei's default region
    for revision in Methodology.objects.filter(version__gt=1):
        figure = f"{revision.baseline_g_per_unit.normalize():f} g CO2 per {revision.unit}"
        assert figure in revision.source, revision.source
    wordings = set(IdentityLink.objects.values_list("consent_wording", flat=True))
    assert wordings and all(w.startswith(("我同意", "I agree")) and "_" not in w for w in wordings)


def test_seeding_prints_no_warnings_between_its_steps_but_still_errors(caplog):
    from carbonpoints.demo.management.commands.seed_demo import _quiet_warnings

    budgets = logging.getLogger("carbonpoints.budgets.services")
    with _quiet_warnings():
        budgets.warning(
            "budget 3 is warn: 2327 of 6000 points left"
        )  # as the demo's budget sets off
        budgets.error("a real problem")
    budgets.warning("after seeding")
    assert [r.getMessage() for r in caplog.records] == ["a real problem", "after seeding"]


def _admin_form(methodology, **changes) -> dict:
    local = timezone.localtime(methodology.valid_from)
    data = {
        "code": methodology.code,
        "version": methodology.version,
        "title": methodology.title,
        "unit": methodology.unit,
        "baseline_g_per_unit": str(methodology.baseline_g_per_unit),
        "project_g_per_unit": str(methodology.project_g_per_unit),
        "basis": methodology.basis,
        "source": methodology.source,
        "valid_from_0": local.strftime("%Y-%m-%d"),
        "valid_from_1": local.strftime("%H:%M:%S"),
        "valid_until_0": "",
        "valid_until_1": "",
        "max_quantity_per_record": str(methodology.max_quantity_per_record or ""),
        "fixed_quantity": "",
        "max_speed_kmh": "",
        "daily_cap": str(methodology.daily_cap or ""),
        "monthly_cap": "",
        "created_at_0": local.strftime("%Y-%m-%d"),
        "created_at_1": local.strftime("%H:%M:%S"),
    }
    data.update(changes)
    return data


def test_operators_add_a_version_in_the_admin_but_cannot_rewrite_a_saved_one(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    walk = Methodology.objects.get(code="walk")
    url = f"/admin/methodologies/methodology/{walk.pk}/change/"

    rewrite = client.post(url, _admin_form(walk, baseline_g_per_unit="0.05"))
    assert rewrite.status_code == 200, "the form is shown again with the refusal"
    walk.refresh_from_db()
    assert walk.baseline_g_per_unit == Decimal("0.02")

    later = (timezone.localdate() + timedelta(days=60)).isoformat()
    end = client.post(url, _admin_form(walk, valid_until_0=later, valid_until_1="00:00:00"))
    assert end.status_code == 302
    new = client.post(
        url,
        _admin_form(
            walk,
            _saveasnew="1",
            version="2",
            baseline_g_per_unit="0.03",
            valid_from_0=later,
            valid_from_1="00:00:00",
        ),
    )
    assert new.status_code == 302, new.content[:2000]
    versions = list(
        Methodology.objects.filter(code="walk")
        .order_by("version")
        .values_list("version", "baseline_g_per_unit")
    )
    assert versions == [(1, Decimal("0.02")), (2, Decimal("0.03"))]
