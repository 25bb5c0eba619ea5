"""Partners and merchants drafted by one operator are approved by another (four eyes), and every
operator transition of a partner, merchant or scenario leaves an audit row."""

import pytest

from carbonpoints.approvals import FourEyesRequired, NotOperator
from carbonpoints.audit.models import AuditEntry
from carbonpoints.earn.models import Partner
from carbonpoints.earn.services import partner_approve, partner_draft
from redemption.models import Merchant, Scenario
from redemption.services import merchant_approve, merchant_draft, scenario_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operators():
    return UserFactory(is_staff=True, is_superuser=True), UserFactory(
        is_staff=True, is_superuser=True
    )


def _trail(obj):
    return list(
        AuditEntry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
        .order_by("id")
        .values_list("action", "actor_id")
    )


def test_a_drafted_partner_is_approved_by_another_operator_only(operators):
    writer, approver = operators
    partner = partner_draft(name="Tram", actions=["metro_ride"], author=writer)
    assert not partner.is_active

    with pytest.raises(FourEyesRequired):
        partner_approve(partner=partner, approver=writer)
    with pytest.raises(NotOperator):
        partner_approve(partner=partner, approver=UserFactory())
    partner = partner_approve(partner=partner, approver=approver)

    assert partner.is_active and partner.approved_by == approver
    assert _trail(partner) == [
        ("partner.draft_create", writer.pk),
        ("partner.approve", approver.pk),
    ]


def test_a_drafted_merchant_is_approved_by_another_operator_only(operators):
    writer, approver = operators
    merchant, _ = merchant_draft(name="Tea house", manager_email="tea@example.cn", author=writer)
    assert merchant.status == Merchant.Status.PENDING

    with pytest.raises(FourEyesRequired):
        merchant_approve(merchant=merchant, approver=writer)
    merchant = merchant_approve(merchant=merchant, approver=approver)

    assert merchant.is_approved and merchant.approved_by == approver
    assert _trail(merchant) == [
        ("merchant.draft_create", writer.pk),
        ("merchant.approve", approver.pk),
    ]


def test_in_the_admin_an_added_partner_is_a_draft_and_its_author_cannot_approve_it(
    client, operators
):
    writer, approver = operators
    client.force_login(writer)
    response = client.post(
        "/admin/earn/partner/add/",
        {
            "name": "Ferry",
            "actions": '["metro_ride"]',
            "keys-TOTAL_FORMS": "0",
            "keys-INITIAL_FORMS": "0",
            "keys-MIN_NUM_FORMS": "0",
            "keys-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302
    partner = Partner.objects.get(name="Ferry")
    assert (partner.status, partner.written_by) == (Partner.Status.DRAFT, writer)

    client.post("/admin/earn/partner/", {"action": "approve", "_selected_action": [partner.pk]})
    partner.refresh_from_db()
    assert partner.status == Partner.Status.DRAFT

    client.force_login(approver)
    client.post("/admin/earn/partner/", {"action": "approve", "_selected_action": [partner.pk]})
    client.post("/admin/earn/partner/", {"action": "disable", "_selected_action": [partner.pk]})
    partner.refresh_from_db()
    assert partner.status == Partner.Status.DISABLED
    assert [a for a, _ in _trail(partner)] == ["admin.add", "partner.approve", "partner.status_set"]


def test_an_operator_reviewing_a_scenario_or_suspending_a_merchant_in_the_admin_is_audited(
    client, operators, settings
):
    settings.REDEMPTION_SCENARIO_REVIEW = True
    merchant, _ = merchant_draft(
        name="Bakery", manager_email="bake@example.cn", author=operators[0]
    )
    merchant_approve(merchant=merchant, approver=operators[1])
    scenario = scenario_create(merchant=merchant, kind="voucher", title="Bread", points_cost=100)
    assert scenario.status == Scenario.Status.PENDING_REVIEW
    client.force_login(operators[0])

    client.post(
        "/admin/redemption/scenario/", {"action": "approve", "_selected_action": [scenario.pk]}
    )
    client.post(
        "/admin/redemption/merchant/", {"action": "suspend", "_selected_action": [merchant.pk]}
    )

    scenario.refresh_from_db()
    merchant.refresh_from_db()
    assert (scenario.status, merchant.status) == (Scenario.Status.LIVE, Merchant.Status.SUSPENDED)
    assert _trail(scenario)[-1] == ("merchant.scenario_approve", operators[0].pk)
    assert _trail(merchant)[-1] == ("merchant.status_set", operators[0].pk)
