"""Operators scoped to regions: a city's operator sees and acts on their city's partners,
methodologies, budgets, merchants, scenarios, records and claims only (another city's answer 403);
a provincial operator sees all; four eyes means two operators with authority over the region."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from carbonpoints.budgets.models import Budget
from carbonpoints.budgets.services import budget_deposit
from carbonpoints.earn.corrections import action_correct, action_reverse
from carbonpoints.earn.models import ActionRecord, ActionState, Partner, PartnerKey
from carbonpoints.earn.services import record_review
from carbonpoints.methodologies import services as methodology_services
from carbonpoints.methodologies.models import Methodology
from carbonpoints.regions.authority import OutsideRegion
from redemption.models import Merchant, MerchantStaff, Scenario
from redemption.services import scenario_transition
from tests.earn.conftest import PartnerClient
from tests.earn.factories import event, partner_with_key
from tests.factories import UserFactory, funded_budget
from tests.spend.factories import MerchantFactory, ScenarioFactory, StaffFactory

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
        StaffFactory(merchant=merchant)
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


@pytest.mark.parametrize(
    ("model", "of"),
    [
        (
            "budgets/sponsor",
            lambda objects: Budget.objects.get(pk=objects["budgets/budget"]).sponsor_id,
        ),
        (
            "redemption/merchantstaff",
            lambda objects: (
                MerchantStaff.objects.get(merchant_id=objects["redemption/merchant"]).pk
            ),
        ),
        (
            "earn/partnerkey",
            lambda objects: (
                PartnerKey.objects.filter(partner_id=objects["earn/partner"]).first().pk
            ),
        ),
        (
            "earn/batch",
            lambda objects: ActionRecord.objects.get(pk=objects["earn/actionrecord"]).batch_id,
        ),
    ],
)
def test_the_other_operator_pages_are_scoped_too(province, client, model, of):
    client.force_login(_operator(YICHANG))

    own = client.get(f"/admin/{model}/{of(province[YICHANG])}/change/")
    other = client.get(f"/admin/{model}/{of(province[WUHAN])}/change/")
    listed = {o.pk for o in client.get(f"/admin/{model}/").context["cl"].result_list}

    assert (own.status_code, other.status_code) == (200, 403)
    assert of(province[YICHANG]) in listed and of(province[WUHAN]) not in listed


def test_a_city_operator_deposits_into_their_city_budgets_only(province, client):
    client.force_login(_operator(YICHANG))
    other = province[WUHAN]["budgets/budget"]

    page = client.get(f"/admin/budgets/budget/{other}/deposit/")
    posted = client.post(
        f"/admin/budgets/budget/{other}/deposit/", {"points": 10, "yuan": "1.00", "note": "x"}
    )
    own = client.get(f"/admin/budgets/budget/{province[YICHANG]['budgets/budget']}/deposit/")

    assert (page.status_code, posted.status_code, own.status_code) == (404, 404, 200)
    assert Budget.objects.get(pk=other).deposits.count() == 1  # the fixture's only
    with pytest.raises(OutsideRegion):
        budget_deposit(
            budget=Budget.objects.get(pk=other), points=1, yuan_fen=1, operator=_operator(YICHANG)
        )


def test_a_city_operator_corrects_and_reviews_their_city_records_only(province):
    wuhan_record = ActionRecord.objects.get(pk=province[WUHAN]["earn/actionrecord"])
    yichang_op = _operator(YICHANG)

    with pytest.raises(OutsideRegion):
        action_reverse(record=wuhan_record, operator=yichang_op, reason="wrong city")
    with pytest.raises(OutsideRegion):
        action_correct(
            record=wuhan_record, quantity=Decimal(1), operator=yichang_op, reason="wrong city"
        )
    ActionRecord.objects.filter(pk=wuhan_record.pk).update(state=ActionState.FLAGGED)
    with pytest.raises(OutsideRegion):
        record_review(record=wuhan_record, operator=yichang_op, approve=True)
    with pytest.raises(OutsideRegion):
        scenario_transition(
            scenario=Scenario.objects.get(pk=province[WUHAN]["redemption/scenario"]),
            action="pause",
            actor=yichang_op,
        )

    reviewed = record_review(record=wuhan_record, operator=_operator(WUHAN), approve=False)
    assert reviewed.state == ActionState.REJECTED


def test_a_city_operator_cannot_widen_their_authority_in_the_users_page(province, client):
    yichang_op, wuhan_op, provincial = _operator(YICHANG), _operator(WUHAN), _operator()
    client.force_login(yichang_op)

    listed = {u.pk for u in client.get("/admin/accounts/user/").context["cl"].result_list}
    own = client.get(f"/admin/accounts/user/{yichang_op.pk}/change/")
    client.post(
        f"/admin/accounts/user/{yichang_op.pk}/change/",
        {"email": yichang_op.email, "role": "operator", "is_superuser": "on", "regions": []},
    )

    assert yichang_op.pk in listed and not {wuhan_op.pk, provincial.pk} & listed
    assert client.get(f"/admin/accounts/user/{provincial.pk}/change/").status_code == 403
    assert client.get(f"/admin/accounts/user/{wuhan_op.pk}/password/").status_code == 403
    assert "regions" not in own.context["adminform"].form.fields
    assert list(yichang_op.regions.values_list("code", flat=True)) == [YICHANG]


def test_the_operator_commands_act_for_an_operator_in_their_regions_only(province, capsys):
    yichang_op = _operator(YICHANG)

    call_command(
        "create_merchant",
        "--name",
        "Yichang Tea",
        "--manager-email",
        "tea@yc.cn",
        "--operator",
        yichang_op.email,
        "--json",
    )
    merchant = json.loads(capsys.readouterr().out)
    call_command(
        "create_budget",
        "--sponsor",
        "Yichang Bureau",
        "--name",
        "2027",
        "--points",
        "100",
        "--yuan",
        "1.00",
        "--operator",
        yichang_op.email.upper(),
        "--json",
    )
    budget = json.loads(capsys.readouterr().out)
    call_command(
        "create_partner",
        "--name",
        "Yichang Bus",
        "--actions",
        "bus_ride",
        "--operator",
        yichang_op.email,
        "--json",
    )
    partner = json.loads(capsys.readouterr().out)

    assert Merchant.objects.get(pk=merchant["merchant_id"]).region_id == YICHANG
    assert Budget.objects.get(pk=budget["budget_id"]).region_id == YICHANG
    assert Budget.objects.get(pk=budget["budget_id"]).deposits.get().made_by == yichang_op
    assert list(
        Partner.objects.get(pk=partner["partner_id"]).regions.values_list("code", flat=True)
    ) == [YICHANG]
    for command, args in (
        ("create_merchant", ["--name", "W", "--manager-email", "w@w.cn", "--region", WUHAN]),
        (
            "create_budget",
            ["--sponsor", "W", "--name", "W", "--points", "1", "--yuan", "1", "--region", WUHAN],
        ),
        (
            "create_partner",
            ["--name", "W", "--actions", "bus_ride", "--regions", f"{YICHANG},{WUHAN}"],
        ),
    ):
        with pytest.raises(CommandError, match=f"outside_region.*{WUHAN}"):
            call_command(command, *args, "--operator", yichang_op.email)
    with pytest.raises(CommandError, match="no active operator"):
        call_command(
            "create_merchant",
            "--name",
            "X",
            "--manager-email",
            "x@x.cn",
            "--operator",
            "citizen@example.cn",
        )


def test_without_an_operator_the_commands_act_as_the_platform(province, capsys):
    call_command(
        "create_merchant",
        "--name",
        "Anywhere",
        "--manager-email",
        "a@a.cn",
        "--region",
        WUHAN,
        "--json",
    )
    merchant = json.loads(capsys.readouterr().out)
    call_command("create_partner", "--name", "Plain", "--actions", "bus_ride", "--json")
    partner = json.loads(capsys.readouterr().out)

    assert merchant["region"] == WUHAN
    assert not Partner.objects.get(pk=partner["partner_id"]).regions.exists()  # as before


def test_a_partner_of_two_cities_is_read_only_to_one_city_operator(province, client):
    partner = Partner.objects.get(pk=province[YICHANG]["earn/partner"])
    partner.regions.set([WUHAN, YICHANG])
    client.force_login(_operator(YICHANG))

    page = client.get(f"/admin/earn/partner/{partner.pk}/change/")
    client.post(
        f"/admin/earn/partner/{partner.pk}/change/", {"name": "Renamed", "regions": [YICHANG]}
    )

    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert sorted(partner.regions.values_list("code", flat=True)) == [WUHAN, YICHANG]
    client.force_login(_operator(HUBEI))
    assert client.get(f"/admin/earn/partner/{partner.pk}/change/").context["has_change_permission"]


def test_a_city_operator_names_the_region_of_what_they_add(province, client):
    client.force_login(_operator(YICHANG))

    form = client.get("/admin/redemption/merchant/add/").context["adminform"].form

    assert form.fields["region"].required
    assert [code for code, _label in form.fields["region"].choices if code] == [YICHANG]


def test_a_city_operator_retires_and_withdraws_their_city_versions_only(province, settings):
    settings.METHODOLOGY_NOTICE_DAYS = 7
    wuhan = Methodology.objects.get(pk=province[WUHAN]["methodologies/methodology"])
    wuhan.written_by = _operator(WUHAN)
    wuhan.save()
    approved = methodology_services.methodology_approve(
        methodology=wuhan, approver=_operator(HUBEI)
    )

    with pytest.raises(OutsideRegion):
        methodology_services.methodology_withdraw(
            methodology=approved, operator=_operator(YICHANG), reason="not ours"
        )
    with pytest.raises(OutsideRegion):
        methodology_services.methodology_retire(methodology=approved, operator=_operator(YICHANG))
    withdrawn = methodology_services.methodology_withdraw(
        methodology=approved, operator=_operator(WUHAN), reason="a wrong factor"
    )

    assert withdrawn.status == Methodology.Status.DRAFT


def test_a_city_operator_cannot_rotate_the_key_of_a_partner_of_two_cities(province, client):
    partner = Partner.objects.get(pk=province[YICHANG]["earn/partner"])
    partner.regions.set([WUHAN, YICHANG])
    keys = partner.keys.count()
    client.force_login(_operator(YICHANG))

    client.post(
        "/admin/earn/partner/",
        {"action": "rotate_key", "_selected_action": [partner.pk]},
        follow=True,
    )

    assert partner.keys.count() == keys
    client.force_login(_operator(HUBEI))
    client.post(
        "/admin/earn/partner/",
        {"action": "rotate_key", "_selected_action": [partner.pk]},
        follow=True,
    )
    assert partner.keys.count() == keys + 1


def test_a_city_operator_filters_name_no_other_city_partner(province, client):
    client.force_login(_operator(YICHANG))

    page = client.get("/admin/earn/actionrecord/").content.decode()

    assert "Yichang Metro" in page and "Wuhan Metro" not in page
