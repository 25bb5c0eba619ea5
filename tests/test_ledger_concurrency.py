"""Many spenders at once against PostgreSQL: the balance never goes below zero, nothing is lost."""

import pytest

from carbonpoints.ledger.exceptions import InsufficientBalance
from carbonpoints.ledger.models import LedgerAccount, LedgerTransaction
from carbonpoints.ledger.selectors import ledger_check
from carbonpoints.ledger.services import Leg, transaction_post
from tests.concurrency import run_at_once
from tests.factories import LedgerAccountFactory, SourceAccountFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_concurrent_spending_never_overdraws():
    source, wallet, sink = SourceAccountFactory(), LedgerAccountFactory(), LedgerAccountFactory()
    transaction_post(kind="issue", legs=[Leg(source, -100), Leg(wallet, 100)])

    def spend(n):
        try:
            transaction_post(kind="spend", legs=[Leg(wallet, -7), Leg(sink, 7)])
            return "spent"
        except InsufficientBalance:
            return "refused"

    outcomes = run_at_once(40, spend)

    assert outcomes.count("spent") == 14  # 14 × 7 = 98 ≤ 100 < 15 × 7
    assert outcomes.count("refused") == 26
    assert LedgerAccount.objects.get(pk=wallet.pk).balance == 2
    assert LedgerAccount.objects.get(pk=sink.pk).balance == 98
    assert ledger_check().ok


def test_concurrent_retries_of_one_key_post_once():
    source, wallet = SourceAccountFactory(), LedgerAccountFactory()

    def credit(n):
        return transaction_post(
            kind="issue", legs=[Leg(source, -25), Leg(wallet, 25)], idempotency_key="retry-me"
        ).pk

    ids = run_at_once(12, credit)

    assert len(set(ids)) == 1
    assert LedgerTransaction.objects.count() == 1
    assert LedgerAccount.objects.get(pk=wallet.pk).balance == 25
    assert ledger_check().ok


def test_transfers_in_both_directions_do_not_deadlock():
    source, a, b = SourceAccountFactory(), LedgerAccountFactory(), LedgerAccountFactory()
    transaction_post(kind="issue", legs=[Leg(source, -1000), Leg(a, 500), Leg(b, 500)])

    def move(n):
        frm, to = (a, b) if n % 2 else (b, a)
        transaction_post(kind="move", legs=[Leg(frm, -3), Leg(to, 3)])
        return "moved"

    assert run_at_once(30, move).count("moved") == 30
    assert (
        LedgerAccount.objects.get(pk=a.pk).balance + LedgerAccount.objects.get(pk=b.pk).balance
        == 1000
    )
    assert ledger_check().ok
