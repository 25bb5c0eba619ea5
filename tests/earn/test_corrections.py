"""Corrections: an operator reverses a credited action, a partner retracts one; nothing is edited."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db.models import Sum
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from carbonpoints.audit.models import AuditEntry
from carbonpoints.earn import tasks
from carbonpoints.earn.corrections import action_reverse
from carbonpoints.earn.exceptions import AlreadyReversed
from carbonpoints.earn.models import ActionRecord, CapUsage, CitizenCarry
from carbonpoints.ledger.models import LedgerTransaction, Posting
from carbonpoints.ledger.selectors import ledger_check
from tests.spend.factories import ScenarioFactory

from .factories import event

pytestmark = pytest.mark.django_db


def account(client) -> dict:
    return client.get("/api/v1/me/account").json()


def retract(partner_client, external_id: str, reason: str | None = "sent twice by mistake"):
    body = json.dumps({} if reason is None else {"reason": reason}).encode()
    return partner_client.request("POST", f"/api/v1/partner/events/{external_id}/retract", body)


def admin_reverse(operator_client, record, reason: str):
    return operator_client.post(
        reverse("admin:earn_actionrecord_changelist"),
        {
            "action": "reverse",
            "_selected_action": [record.pk],
            "apply": "1",
            "reason": reason,
        },
    )


def test_an_operator_reverses_a_credited_ride_from_the_admin_with_a_reason(
    metro, linked_citizen_client, operator_client, operator
):
    metro.send(event(external_id="ride-1", quantity="12.5"))  # 584 g, 58 points, 4 g carried
    record = ActionRecord.objects.get(external_id="ride-1")

    asked = operator_client.post(
        reverse("admin:earn_actionrecord_changelist"),
        {"action": "reverse", "_selected_action": [record.pk]},
    )
    assert asked.status_code == 200 and b'name="reason"' in asked.content, (
        "the reason is asked first"
    )
    done = admin_reverse(operator_client, record, "fraud: the card was cloned")

    assert done.status_code == 302
    mine = account(linked_citizen_client)
    assert mine["reduction_g"] == 0 and mine["points"] == {"available": 0, "pending": 0}
    seen = linked_citizen_client.get(f"/api/v1/me/actions/{record.pk}").json()
    assert seen["state"] == "reversed" and seen["reason"] == "reversed_by_operator"
    assert "fraud: the card was cloned" in seen["reason_message"]
    in_english = linked_citizen_client.get(
        f"/api/v1/me/actions/{record.pk}", HTTP_ACCEPT_LANGUAGE="en"
    ).json()
    assert in_english["explanation"]["rules"][-1]["message"] == (
        "An operator reversed this action: fraud: the card was cloned"
    )
    assert (
        seen["explanation"]["rules"][-1]["message"]
        == "运营人员已撤销此行为：fraud: the card was cloned"
    )
    correction = LedgerTransaction.objects.get(kind="earn_reversal")
    assert correction.corrects == LedgerTransaction.objects.get(kind="earn_credit")
    assert CitizenCarry.objects.get().remainder_g == 0
    assert CapUsage.objects.get().counted_micro == 0
    entry = AuditEntry.objects.get(action="earn.reversed_by_operator")
    assert entry.actor_id == operator.pk and entry.details["reason"] == "fraud: the card was cloned"
    assert ledger_check().ok


def test_a_second_reversal_is_refused_and_changes_nothing(metro, linked_citizen_client, operator):
    metro.send(event(external_id="ride-1", quantity="12.5"))
    record = ActionRecord.objects.get(external_id="ride-1")
    action_reverse(record=record, operator=operator, reason="fraud")

    with pytest.raises(AlreadyReversed):
        action_reverse(record=record, operator=operator, reason="fraud again")
    again = retract(metro, "ride-1")

    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reversed"
    assert LedgerTransaction.objects.filter(kind="earn_reversal").count() == 1
    assert ledger_check().ok


def test_points_already_spent_become_a_negative_carry_that_the_next_credits_pay_off(
    metro, linked_citizen_client, operator
):
    metro.send(
        event(
            external_id="ride-1", quantity="12.5", occurred_at=timezone.now() - timedelta(hours=2)
        )
    )  # 58 points, 4 g carried
    coffee = ScenarioFactory(points_cost=50)
    bought = linked_citizen_client.post(
        "/api/v1/redemptions",
        {"scenario_id": coffee.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="coffee",
    )
    assert bought.status_code == 201, bought.content

    action_reverse(
        record=ActionRecord.objects.get(external_id="ride-1"), operator=operator, reason="fraud"
    )

    # 8 points were left to take back; the other 50 (500 g) are owed, on top of the ride's 4 g
    assert account(linked_citizen_client)["points"] == {"available": 0, "pending": 0}
    assert CitizenCarry.objects.get().remainder_g == -500
    metro.send(
        event(external_id="ride-2", quantity="12.5")
    )  # 584 g: 500 pay the debt, 84 g earn 8 points
    assert account(linked_citizen_client)["points"]["available"] == 8
    assert CitizenCarry.objects.get().remainder_g == 4
    ride_2 = linked_citizen_client.get("/api/v1/me/actions").json()["results"][0]
    assert ride_2["points"] == 8
    assert ledger_check().ok


def test_a_small_ride_while_in_debt_earns_nothing_and_pays_part_of_it(
    metro, linked_citizen_client, operator
):
    metro.send(
        event(
            external_id="ride-1", quantity="12.5", occurred_at=timezone.now() - timedelta(hours=2)
        )
    )
    spent = linked_citizen_client.post(
        "/api/v1/redemptions",
        {"scenario_id": ScenarioFactory(points_cost=58).pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="all",
    )
    assert spent.status_code == 201, spent.content
    action_reverse(
        record=ActionRecord.objects.get(external_id="ride-1"), operator=operator, reason="fraud"
    )

    metro.send(event(external_id="ride-2", quantity="2"))  # 93 g against 580 g owed

    assert account(linked_citizen_client)["points"]["available"] == 0
    assert CitizenCarry.objects.get().remainder_g == -580 + 93
    assert ledger_check().ok


@override_settings(EARN_SETTLING_DAYS=7)
def test_points_still_settling_come_back_from_pending_and_never_settle(
    metro, linked_citizen_client, operator
):
    metro.send(event(external_id="ride-1", quantity="10"))
    assert account(linked_citizen_client)["points"] == {"available": 0, "pending": 46}

    action_reverse(
        record=ActionRecord.objects.get(external_id="ride-1"), operator=operator, reason="fraud"
    )
    ActionRecord.objects.update(points_available_at=timezone.now() - timedelta(seconds=1))
    tasks.settle_points.delay()

    assert account(linked_citizen_client)["points"] == {"available": 0, "pending": 0}
    assert CitizenCarry.objects.get().remainder_g == 0
    assert ledger_check().ok


def test_a_partner_retracts_a_credited_record_with_a_signed_call(metro, linked_citizen_client):
    metro.send(event(external_id="ride-1", quantity="12.5"))

    answer = retract(metro, "ride-1", "the rider cancelled the trip")

    assert answer.status_code == 200, answer.content
    assert (
        answer.json()["state"] == "reversed" and answer.json()["reason"] == "retracted_by_partner"
    )
    assert "the rider cancelled the trip" in answer.json()["reason_message"]
    assert account(linked_citizen_client)["reduction_g"] == 0
    assert AuditEntry.objects.get(action="earn.retracted_by_partner").details["partner"] == "Metro"
    assert ledger_check().ok


def test_a_record_not_credited_yet_is_simply_ended(metro):
    metro.send(event(external_id="held-1", subject="nobody-linked", quantity="3"))
    assert ActionRecord.objects.get(external_id="held-1").state == "unlinked"

    answer = retract(metro, "held-1")

    assert answer.status_code == 200 and answer.json()["state"] == "reversed"
    assert not LedgerTransaction.objects.filter(kind="earn_reversal").exists()


def test_retraction_refusals(metro, bikes, linked_citizen_client):
    metro.send(
        event(external_id="ride-1", quantity="12.5"),
        event(external_id="future-1", occurred_at=timezone.now() + timedelta(days=2)),
    )

    assert retract(metro, "ride-1", None).status_code == 400
    assert retract(metro, "no-such-ride").json()["error"]["code"] == "not_found"
    assert retract(bikes, "ride-1").status_code == 404, "a partner retracts only its own records"
    rejected = retract(metro, "future-1")
    assert rejected.status_code == 409 and rejected.json()["error"]["code"] == "not_reversible"
    assert ActionRecord.objects.get(external_id="ride-1").state == "credited"


def test_the_citizen_sees_why_on_the_portal(metro, linked_citizen_client, citizen):
    metro.send(event(external_id="ride-1", quantity="12.5"))
    retract(metro, "ride-1", "trip refunded")
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(citizen)

    page = browser.get("/me/").content.decode()

    assert "The partner retracted this action: trip refunded" in page


def correct(partner_client, external_id: str, quantity, reason: str = "odometer re-read"):
    body = json.dumps({"quantity": quantity, "reason": reason}).encode()
    return partner_client.request("POST", f"/api/v1/partner/events/{external_id}/correct", body)


def test_a_partner_corrects_a_quantity_and_the_record_is_credited_again(
    metro, linked_citizen_client
):
    metro.send(event(external_id="ride-1", quantity="12.5"))  # 584 g, 58 points, 4 g carried

    answer = correct(metro, "ride-1", "10")

    assert answer.status_code == 200, answer.content
    status = answer.json()
    assert status["state"] == "credited" and status["quantity"] == "10"
    assert status["explanation"]["credited_g"] == 467 and status["explanation"]["points"] == 46
    codes = [rule["code"] for rule in status["explanation"]["rules"]]
    assert codes[-2:] == ["retracted_by_partner", "corrected"]
    mine = account(linked_citizen_client)
    assert mine["reduction_g"] == 467 and mine["points"]["available"] == 46
    assert CitizenCarry.objects.get().remainder_g == 7
    assert LedgerTransaction.objects.filter(kind="earn_credit").count() == 2
    assert AuditEntry.objects.filter(action="earn.action_correct").count() == 1
    assert ledger_check().ok

    again = correct(metro, "ride-1", "12.5")  # corrected twice: back to what was first sent

    assert again.status_code == 200 and again.json()["explanation"]["points"] == 58
    assert account(linked_citizen_client)["points"]["available"] == 58
    assert ledger_check().ok


def test_a_correction_needs_a_positive_quantity(metro, linked_citizen_client):
    metro.send(event(external_id="ride-1", quantity="12.5"))

    assert correct(metro, "ride-1", "0").status_code == 400
    assert correct(metro, "ride-1", "1.1234567").status_code == 400
    assert ActionRecord.objects.get(external_id="ride-1").state == "credited"


def test_a_batch_status_counts_its_reversed_and_retracted_records(
    metro, linked_citizen_client, operator
):
    answer = metro.send(
        event(external_id="ride-1", quantity="12.5"),
        event(external_id="ride-2", quantity="3"),
        event(external_id="ride-3", quantity="4"),
        event(external_id="held-1", subject="nobody"),
    )
    batch_id = answer.json()["batch_id"]
    action_reverse(
        record=ActionRecord.objects.get(external_id="ride-1"), operator=operator, reason="fraud"
    )
    retract(metro, "ride-2")
    retract(metro, "held-1")

    status = metro.batch(batch_id)

    assert status["reversed"] == 3, "reversed by an operator, retracted when credited or when held"
    assert (status["credited"], status["unlinked"], status["received"]) == (1, 0, 4), (
        "the old keys stay"
    )
    assert status["complete"] is True


def test_the_schema_documents_the_reversed_count(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()

    properties = schema["components"]["schemas"]["BatchStatus"]["properties"]
    assert (
        properties["reversed"]["type"] == "integer"
        and "expired" in properties
        and "flagged" in properties
    )


def admin_correct(operator_client, records, **fields):
    """The admin's "correct quantity" action: without ``fields`` it asks; with them it applies."""
    data = {"action": "correct_quantity", "_selected_action": [r.pk for r in records]}
    if fields:
        data |= {"apply": "1", **fields}
    return operator_client.post(reverse("admin:earn_actionrecord_changelist"), data)


def said(response) -> list[str]:
    """The admin's messages so far (they pile up until a page shows them: the last is the newest)."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_an_operator_corrects_a_credited_quantity_from_the_admin(
    metro, linked_citizen_client, operator_client, operator
):
    metro.send(event(external_id="ride-1", quantity="12.5"))  # 584 g, 58 points, 4 g carried
    record = ActionRecord.objects.get(external_id="ride-1")

    asked = admin_correct(operator_client, [record])
    assert (
        asked.status_code == 200
        and b'name="quantity"' in asked.content
        and b'name="reason"' in asked.content
    )
    assert b"12.5 km" in asked.content, "the page shows what is corrected"
    done = admin_correct(
        operator_client, [record], quantity="10", reason="the odometer was misread"
    )

    assert done.status_code == 302
    assert "ride-1" in said(done)[0] and "46 points" in said(done)[0]
    record.refresh_from_db()
    assert (record.state, record.quantity, record.credited_g, record.points) == (
        "credited",
        10,
        467,
        46,
    )
    assert [rule["code"] for rule in record.explanation["rules"]][-2:] == [
        "reversed_by_operator",
        "corrected",
    ]
    mine = account(linked_citizen_client)
    assert mine["reduction_g"] == 467 and mine["points"]["available"] == 46
    assert CitizenCarry.objects.get().remainder_g == 7
    reversal = LedgerTransaction.objects.get(kind="earn_reversal")
    assert reversal.corrects == LedgerTransaction.objects.filter(kind="earn_credit").earliest(
        "created_at"
    )
    assert LedgerTransaction.objects.filter(kind="earn_credit").count() == 2
    for unit in ("g", "pt"):
        for tx in LedgerTransaction.objects.all():
            assert (tx.postings.filter(unit=unit).aggregate(total=Sum("amount"))["total"] or 0) == 0
    assert Posting.objects.filter(transaction=reversal).exists()
    assert ledger_check().ok
    entry = AuditEntry.objects.get(action="earn.action_correct")
    assert entry.actor_id == operator.pk and entry.object_id == str(record.pk)
    assert entry.details["reason"] == "the odometer was misread"
    assert (entry.details["quantity"], entry.details["corrected_quantity"]) == ("12.500000", "10")
    assert AuditEntry.objects.get(action="earn.reversed_by_operator").actor_id == operator.pk


def test_the_correction_page_shows_what_is_wrong_with_the_form(
    metro, linked_citizen_client, operator_client
):
    metro.send(event(external_id="ride-1", quantity="12.5"))
    record = ActionRecord.objects.get(external_id="ride-1")

    no_reason = admin_correct(operator_client, [record], quantity="10", reason="")
    zero = admin_correct(operator_client, [record], quantity="0", reason="misread")
    too_precise = admin_correct(operator_client, [record], quantity="1.1234567", reason="misread")

    for page in (no_reason, zero, too_precise):
        assert page.status_code == 200 and b"errorlist" in page.content
    assert "This field is required." in no_reason.content.decode()
    assert "greater than or equal to 0.000001" in zero.content.decode()
    assert "6 decimal places" in too_precise.content.decode()
    record.refresh_from_db()
    assert (record.state, record.quantity) == ("credited", Decimal("12.5"))
    assert not AuditEntry.objects.filter(action__startswith="earn.").exists()


def test_a_refused_correction_is_a_message_not_an_error_page(
    metro, linked_citizen_client, operator_client, operator
):
    metro.send(
        event(external_id="ride-1", quantity="12.5"),
        event(external_id="future-1", occurred_at=timezone.now() + timedelta(days=2)),
    )
    ride = ActionRecord.objects.get(external_id="ride-1")
    action_reverse(record=ride, operator=operator, reason="fraud")
    rejected = ActionRecord.objects.get(external_id="future-1")

    again = admin_correct(operator_client, [ride], quantity="10", reason="misread")
    not_credited = admin_correct(operator_client, [rejected], quantity="10", reason="misread")
    two = admin_correct(operator_client, [ride, rejected], quantity="10", reason="misread")

    assert again.status_code == not_credited.status_code == two.status_code == 302
    assert said(again)[-1].endswith(
        "ride-1 metro_ride (reversed): This action was already reversed."
    )
    assert said(not_credited)[-1].endswith(
        "future-1 metro_ride (rejected): This action cannot be reversed in its current state."
    )
    assert said(two)[-1] == "Select exactly one action record to correct."
    assert ActionRecord.objects.get(pk=rejected.pk).state == "rejected"
    assert not AuditEntry.objects.filter(action="earn.action_correct").exists()
    assert ledger_check().ok


def test_the_correction_page_speaks_chinese(metro, linked_citizen_client, operator):
    metro.send(event(external_id="ride-1", quantity="12.5"))
    browser = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    browser.force_login(operator)

    page = admin_correct(browser, [ActionRecord.objects.get(external_id="ride-1")]).content.decode()

    assert "更正行为的数量" in page and "更正后的数量" in page and "重新判定" in page
