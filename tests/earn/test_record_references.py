"""The action table's references hold without per-row foreign keys (PostgreSQL's statement-level
checks, migration earn 0005): a record never points at a missing row, and what records point at
is never deleted."""

import pytest
from django.db import DatabaseError, connection, transaction

from carbonpoints.earn.models import ActionRecord, Batch, CapUsage, Partner
from carbonpoints.methodologies.models import ConversionRule, Methodology

from .factories import event

pytestmark = pytest.mark.django_db


def _refused(sql: str, params: list) -> str:
    with (
        pytest.raises(DatabaseError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)
    return str(refused.value)


def test_a_record_cannot_point_at_a_missing_citizen_or_methodology(metro, linked_citizen_client):
    metro.send(event(external_id="ride"))
    record = ActionRecord.objects.get()

    assert "refers to a missing" in _refused(
        "UPDATE earn_actionrecord SET account_id = %s WHERE id = %s", [10**12, record.pk]
    )
    assert "refers to a missing" in _refused(
        "UPDATE earn_actionrecord SET methodology_id = %s WHERE id = %s", [10**12, record.pk]
    )
    assert "refers to a missing budget" in _refused(
        "UPDATE earn_actionrecord SET budget_id = %s WHERE id = %s", [10**12, record.pk]
    )
    assert ActionRecord.objects.get().account_id == record.account_id


def test_what_records_point_at_cannot_be_deleted(metro, linked_citizen_client):
    metro.send(event(external_id="ride"))
    record = ActionRecord.objects.get()

    assert "referred to by action records" in _refused(
        "DELETE FROM earn_partner WHERE id = %s", [metro.partner.pk]
    )
    assert "referred to by action records" in _refused(
        "DELETE FROM earn_batch WHERE id = %s", [record.batch_id]
    )
    assert "referred to by action records" in _refused(
        "DELETE FROM accounts_carbonaccount WHERE id = %s", [record.account_id]
    )
    assert "retire them instead" in _refused(
        "DELETE FROM methodologies_methodology WHERE id = %s", [record.methodology_id]
    )
    assert "retire them instead" in _refused(
        "DELETE FROM methodologies_conversionrule WHERE id = %s", [record.conversion_rule_id]
    )
    assert "retire them instead" in _refused(
        "DELETE FROM budgets_budget WHERE id = %s", [record.budget_id]
    )
    assert Partner.objects.filter(pk=metro.partner.pk).exists() and Batch.objects.exists()
    assert (
        Methodology.objects.filter(pk=record.methodology_id).exists()
        and ConversionRule.objects.exists()
    )


def test_a_partner_without_records_can_still_be_removed(db):
    from .factories import partner_with_key

    partner = partner_with_key(name="Never sent anything").partner
    partner.keys.all().delete()
    partner.delete()
    assert not Partner.objects.filter(name="Never sent anything").exists()


def test_cap_usage_never_points_at_a_missing_citizen(metro, linked_citizen_client):
    """Cap usage's citizen is checked by the upsert's own statement (migration earn 0015), not by
    a deferred foreign key at commit; the guarantee is the same."""
    metro.send(event(external_id="ride"))
    usage = CapUsage.objects.get()

    assert "refers to a missing account" in _refused(
        "INSERT INTO earn_capusage (account_id, action, day, counted_micro) VALUES (%s, %s, %s, 1)",
        [10**12, usage.action, usage.day],
    )
    assert "stays with its account" in _refused(
        "UPDATE earn_capusage SET account_id = %s WHERE id = %s", [10**12, usage.pk]
    )
    with connection.cursor() as cursor:  # the intake's upsert adds to a row, its account unchanged
        cursor.execute(
            "INSERT INTO earn_capusage AS u (account_id, action, day, counted_micro) "
            "VALUES (%s, %s, %s, 5) ON CONFLICT (account_id, action, day) "
            "DO UPDATE SET counted_micro = u.counted_micro + EXCLUDED.counted_micro",
            [usage.account_id, usage.action, usage.day],
        )
    assert CapUsage.objects.get().counted_micro == usage.counted_micro + 5

    with connection.cursor() as cursor:  # records gone (never, in the product), the usage remains
        cursor.execute("DELETE FROM earn_actionrecord")
    assert "referred to" in _refused(
        "DELETE FROM accounts_carbonaccount WHERE id = %s", [usage.account_id]
    )
    assert CapUsage.objects.filter(account_id=usage.account_id).exists()
