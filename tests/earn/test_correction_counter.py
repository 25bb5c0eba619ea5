"""A record counts its corrections, and the counter numbers the ledger keys of its history.

The keys of before were numbered by counting the ``corrected`` rules of the explanation: the
counter gives the same numbers, and migration 0011 counts the records corrected before it.
"""

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from carbonpoints.earn.models import ActionRecord
from carbonpoints.ledger.models import LedgerTransaction
from carbonpoints.ledger.selectors import ledger_check

from .factories import event

pytestmark = pytest.mark.django_db


def correct(partner_client, external_id: str, quantity: str):
    body = json.dumps({"quantity": quantity, "reason": "odometer re-read"}).encode()
    answer = partner_client.request("POST", f"/api/v1/partner/events/{external_id}/correct", body)
    assert answer.status_code == 200, answer.content
    return answer


def test_each_correction_numbers_the_keys_of_its_reversal_and_its_new_credit(
    metro, linked_citizen_client
):
    metro.send(event(external_id="ride-1", quantity="12.5"))
    record = ActionRecord.objects.get(external_id="ride-1")

    correct(metro, "ride-1", "10")
    correct(metro, "ride-1", "11")

    record.refresh_from_db()
    assert record.corrections == 2
    keys = set(
        LedgerTransaction.objects.filter(reference__in=[f"action:{record.pk}"]).values_list(
            "idempotency_key", flat=True
        )
    )
    keys |= set(
        LedgerTransaction.objects.filter(
            idempotency_key__startswith=f"earn:correct:{record.pk}:"
        ).values_list("idempotency_key", flat=True)
    )
    assert keys == {
        f"earn:reverse:{record.pk}:0",
        f"earn:reverse:{record.pk}:1",
        f"earn:correct:{record.pk}:1",
        f"earn:correct:{record.pk}:2",
    }
    assert ledger_check().ok


BEFORE = [("earn", "0010_record_funded_by_budget")]
AFTER = [("earn", "0011_record_corrections")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_counts_the_corrections_of_before_from_the_explanation(
    metro, linked_citizen_client
):
    metro.send(event(external_id="twice", quantity="3"), event(external_id="never", quantity="4"))
    corrected = {
        "code": "corrected",
        "quantity": "2",
        "corrected_quantity": "3",
        "reason": "re-read",
    }
    reversed_ = {"code": "retracted_by_partner", "reason": "re-read"}
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("earn", "ActionRecord")
    twice = old.objects.get(external_id="twice")
    twice.explanation = {
        **twice.explanation,
        "rules": [*twice.explanation.get("rules", []), reversed_, corrected, reversed_, corrected],
    }
    twice.save(update_fields=["explanation"])

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.migrate(
        executor.loader.graph.leaf_nodes()
    )  # back to the latest schema for the tests after this one

    assert dict(ActionRecord.objects.values_list("external_id", "corrections")) == {
        "twice": 2,
        "never": 0,
    }
