"""The ledger's bulk writer keeps every invariant of transaction_post (used by crediting)."""

import pytest

from carbonpoints.ledger.exceptions import (
    IdempotencyConflict,
    InsufficientBalance,
    UnbalancedTransaction,
)
from carbonpoints.ledger.models import LedgerTransaction, Posting
from carbonpoints.ledger.selectors import ledger_check
from carbonpoints.ledger.services import Leg, TransactionSpec, transaction_post_many
from tests.factories import LedgerAccountFactory, SourceAccountFactory

pytestmark = pytest.mark.django_db


def _specs(source, targets, amount=5, prefix="k"):
    return [
        TransactionSpec(
            kind="test",
            idempotency_key=f"{prefix}{i}",
            legs=[Leg(source, -amount), Leg(target, amount)],
        )
        for i, target in enumerate(targets)
    ]


def test_many_transactions_post_with_running_balances_and_a_retry_posts_nothing():
    source = SourceAccountFactory()
    first, second = LedgerAccountFactory(), LedgerAccountFactory()
    specs = _specs(source, [first, second, first])
    before = LedgerTransaction.objects.count()

    posted = transaction_post_many(specs=specs)
    again = transaction_post_many(specs=_specs(source, [first, second, first]))

    assert [t.pk for t in posted] == [t.pk for t in again]
    assert LedgerTransaction.objects.count() == before + 3
    first.refresh_from_db()
    assert first.balance == 10
    assert list(
        Posting.objects.filter(account=first).order_by("id").values_list("balance_after", flat=True)
    ) == [5, 10]
    assert ledger_check().ok


def test_a_key_reused_for_other_legs_is_refused():
    source, target = SourceAccountFactory(), LedgerAccountFactory()
    transaction_post_many(specs=_specs(source, [target]))
    with pytest.raises(IdempotencyConflict):
        transaction_post_many(specs=_specs(source, [target], amount=6))


def test_an_overdraft_refuses_the_whole_bulk():
    poor, rich = LedgerAccountFactory(), LedgerAccountFactory()
    before = LedgerTransaction.objects.count()
    with pytest.raises(InsufficientBalance):
        transaction_post_many(specs=_specs(poor, [rich]))
    assert LedgerTransaction.objects.count() == before


def test_unbalanced_or_keyless_transactions_are_refused():
    source, target = SourceAccountFactory(), LedgerAccountFactory()
    with pytest.raises(UnbalancedTransaction):
        transaction_post_many(
            specs=[
                TransactionSpec(
                    kind="t", idempotency_key="u", legs=[Leg(source, -5), Leg(target, 4)]
                )
            ]
        )
    with pytest.raises(ValueError):
        transaction_post_many(
            specs=[
                TransactionSpec(
                    kind="t", idempotency_key="", legs=[Leg(source, -5), Leg(target, 5)]
                )
            ]
        )
