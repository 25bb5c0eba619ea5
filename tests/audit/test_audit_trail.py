"""Operators' and merchant managers' actions leave an append-only audit row, readable in the admin."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from carbonpoints.audit.models import AuditEntry
from carbonpoints.audit.services import audit_record
from redemption.models import Merchant, Scenario
from tests.earn.factories import partner_with_key
from tests.spend.factories import MerchantFactory, ScenarioFactory, fill_pool

pytestmark = pytest.mark.django_db


def only_entry(**filters) -> AuditEntry:
    [entry] = AuditEntry.objects.filter(**filters)
    return entry


# --- operators in the admin --------------------------------------------------------------------


def test_an_admin_action_is_recorded_with_its_objects(operator_client, operator):
    pending = MerchantFactory(status=Merchant.Status.PENDING)
    response = operator_client.post(
        reverse("admin:redemption_merchant_changelist"),
        {
            "action": "approve",
            "_selected_action": [pending.pk],
        },
    )
    assert response.status_code == 302
    entry = only_entry(action="admin.action.approve")
    assert entry.actor_id == operator.pk and entry.actor_role == "operator"
    assert entry.details["model"] == "redemption.merchant" and entry.details["objects"] == [
        pending.pk
    ]


def test_disabling_a_partner_in_the_admin_is_recorded(operator_client):
    partner = partner_with_key(name="Metro", actions=["metro_ride"]).partner
    operator_client.post(
        reverse("admin:earn_partner_changelist"),
        {
            "action": "disable",
            "_selected_action": [partner.pk],
        },
    )
    assert only_entry(action="admin.action.disable").details["objects"] == [partner.pk]


def test_an_admin_save_is_recorded(operator_client, operator):
    merchant = MerchantFactory()
    url = reverse("admin:redemption_merchant_change", args=[merchant.pk])
    form = operator_client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields if name != "created_at"}
    data.update(
        {
            "name": "Renamed Mart",
            "created_at_0": "2026-11-01",
            "created_at_1": "10:00:00",
            **_empty_inlines(operator_client.get(url)),
        }
    )
    response = operator_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = only_entry(action="admin.change")
    assert entry.object_type == "redemption.merchant" and entry.object_id == str(merchant.pk)
    assert "Name" in entry.details["change"][0]["changed"]["fields"]


def _empty_inlines(page) -> dict[str, str]:
    """Management forms of the change page's inlines, with no rows changed."""
    data = {}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value() or 0
        for i, form in enumerate(formset.formset.forms):
            for name in form.fields:
                value = form[name].value()
                data[f"{formset.formset.prefix}-{i}-{name}"] = "" if value is None else value
    return data


def test_the_trail_is_read_only_in_the_admin(operator_client, operator):
    entry = audit_record(actor=operator, action="test.look", obj=MerchantFactory())
    changelist = operator_client.get(reverse("admin:audit_auditentry_changelist"))
    assert changelist.status_code == 200 and "test.look" in changelist.content.decode()
    assert (
        operator_client.get(reverse("admin:audit_auditentry_change", args=[entry.pk])).status_code
        == 200
    )
    assert operator_client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    assert (
        operator_client.post(
            reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


# --- merchant managers -------------------------------------------------------------------------


def test_a_managers_scenario_and_its_pause_are_recorded(manager_client, manager):
    created = manager_client.post(
        "/api/v1/merchant/scenarios",
        {
            "kind": "voucher",
            "title": "Free coffee",
            "points_cost": 300,
            "stock": 5,
        },
        format="json",
    )
    assert created.status_code == 201
    scenario_id = created.json()["id"]
    entry = only_entry(action="merchant.scenario_create")
    assert entry.actor_id == manager.user.pk and entry.object_id == str(scenario_id)
    assert entry.details == {
        "merchant_id": manager.merchant_id,
        "kind": "voucher",
        "status": "live",
    }

    assert manager_client.post(f"/api/v1/merchant/scenarios/{scenario_id}/pause").status_code == 200
    assert only_entry(action="merchant.scenario_pause").details["to"] == "paused"


def test_a_refused_scenario_leaves_no_row(manager_client):
    response = manager_client.post(
        "/api/v1/merchant/scenarios", {"kind": "voucher", "title": "No cost"}, format="json"
    )
    assert response.status_code == 400
    assert not AuditEntry.objects.exists()


def test_adding_staff_is_recorded_without_their_email(manager_client, manager):
    response = manager_client.post(
        "/api/v1/merchant/staff", {"email": "new.cashier@shop.cn", "role": "cashier"}, format="json"
    )
    assert response.status_code == 201
    entry = only_entry(action="merchant.staff_add")
    assert entry.details["role"] == "cashier" and "new.cashier" not in str(entry.__dict__)


def test_the_console_records_a_scenario_cancelled_there(client, manager):
    scenario = ScenarioFactory(merchant=manager.merchant)
    client.force_login(manager.user)
    client.post(reverse("merchant-scenario-action", args=[scenario.pk, "cancel"]))
    assert Scenario.objects.get(pk=scenario.pk).status == Scenario.Status.CANCELLED
    assert only_entry(action="merchant.scenario_cancel").actor_id == manager.user.pk


def test_retiring_an_offset_is_recorded(manager_client, manager):
    fill_pool("metro_ride", 2026, 10, 5_000)
    response = manager_client.post(
        "/api/v1/merchant/offsets", {"grams": 1_000, "purpose": "Team offsite"}, format="json"
    )
    assert response.status_code == 201, response.content
    entry = only_entry(action="merchant.offset_retire")
    assert (
        entry.object_id == response.json()["certificate"]["id"] and entry.details["grams"] == 1_000
    )


# --- append-only -------------------------------------------------------------------------------


def test_a_row_cannot_be_changed_or_deleted(operator):
    entry = audit_record(actor=operator, action="test.keep")
    entry.action = "test.rewrite"
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()


def test_postgresql_refuses_updates_and_deletes_of_the_trail(operator):
    audit_record(actor=operator, action="test.keep")
    for statement in ("UPDATE audit_auditentry SET action = 'x'", "DELETE FROM audit_auditentry"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEntry.objects.get().action == "test.keep"
