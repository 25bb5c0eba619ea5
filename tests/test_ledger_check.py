"""``manage.py ledger_check`` re-derives every balance and fails loudly on any mismatch."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from carbonpoints.ledger.models import LedgerAccount, LedgerCheckRun
from carbonpoints.ledger.services import Leg, transaction_post
from carbonpoints.ledger.tasks import run_ledger_check
from tests.factories import LedgerAccountFactory, SourceAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def some_postings():
    source, a, b = SourceAccountFactory(), LedgerAccountFactory(), LedgerAccountFactory()
    transaction_post(kind="issue", legs=[Leg(source, -100), Leg(a, 100)])
    transaction_post(kind="move", legs=[Leg(a, -30), Leg(b, 30)])
    return a, b


def test_a_consistent_ledger_passes(some_postings, capsys):
    call_command("ledger_check", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["accounts_checked"] == 3
    assert report["transactions_checked"] == 2
    assert LedgerCheckRun.objects.get().ok


def test_a_balance_that_disagrees_with_its_postings_fails_the_check(some_postings, capsys):
    a, _ = some_postings
    LedgerAccount.objects.filter(pk=a.pk).update(balance=71)  # tampering behind the service
    with pytest.raises(CommandError):
        call_command("ledger_check", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert {
        "check": "balance_mismatch",
        "account_id": a.pk,
        "balance": 71,
        "derived": 70,
    }.items() <= report["problems"][0].items()
    assert not LedgerCheckRun.objects.get().ok


def test_the_periodic_task_records_its_outcome_for_operators(some_postings):
    run_id = run_ledger_check.delay().get()
    run = LedgerCheckRun.objects.get(pk=run_id)
    assert run.ok and run.finished_at is not None


def test_grams_in_the_pool_that_no_citizen_contributed_fail_the_check(capsys):
    """Contribution view = claim view: every gram of the pool (or retired from it) was verified
    for a citizen; a pool gram without its contribution is caught."""
    from accounts.ledger_accounts import REDUCTION, pool_account
    from carbonpoints.earn.ledger_accounts import CLAIM_ISSUANCE, GRAMS_ISSUANCE
    from carbonpoints.ledger.selectors import ledger_check
    from carbonpoints.ledger.services import ledger_accounts_get_or_create

    keys = [
        GRAMS_ISSUANCE,
        CLAIM_ISSUANCE,
        REDUCTION.of(7),
        pool_account(methodology_code="metro", vintage_year=2026, vintage_month=11),
    ]
    accounts = ledger_accounts_get_or_create(keys=keys)
    grams_source, claim_source, citizen, pool = (accounts[key] for key in keys)
    LedgerAccount.objects.filter(pk__in=[grams_source.pk, claim_source.pk]).update(
        allow_negative=True
    )
    grams_source.allow_negative = claim_source.allow_negative = True
    transaction_post(
        kind="earn_credit",
        legs=[Leg(grams_source, -50), Leg(claim_source, -50), Leg(citizen, 50), Leg(pool, 50)],
    )
    assert ledger_check().ok

    transaction_post(kind="forged", legs=[Leg(claim_source, -9), Leg(pool, 9)])

    report = ledger_check()
    assert report.problems == [
        {
            "check": "views_differ",
            "view": "contribution_equals_claim",
            "unit": "g",
            "left": 50,
            "right": 59,
        }
    ]
    with pytest.raises(CommandError):
        call_command("ledger_check")
