"""The posting service: balanced, integer, idempotent, no overdraft, corrections by reversal."""

import pytest
from django.db import IntegrityError, connection, transaction

from carbonpoints.ledger.exceptions import (
    IdempotencyConflict,
    InsufficientBalance,
    UnbalancedTransaction,
)
from carbonpoints.ledger.models import LedgerAccount, LedgerTransaction, Posting, Unit
from carbonpoints.ledger.selectors import ledger_check
from carbonpoints.ledger.services import Leg, transaction_post, transaction_reverse
from tests.factories import LedgerAccountFactory, SourceAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def issuance():
    return SourceAccountFactory()


@pytest.fixture
def wallet():
    return LedgerAccountFactory()


def fund(source, target, amount, **kwargs):
    return transaction_post(
        kind="issue", legs=[Leg(source, -amount), Leg(target, amount)], **kwargs
    )


def test_a_transfer_moves_the_amount_and_keeps_running_balances(issuance, wallet):
    fund(issuance, wallet, 120)
    fund(issuance, wallet, 30)
    wallet.refresh_from_db()
    issuance.refresh_from_db()
    assert wallet.balance == 150
    assert issuance.balance == -150
    assert list(wallet.postings.order_by("id").values_list("amount", "balance_after")) == [
        (120, 120),
        (30, 150),
    ]
    assert ledger_check().ok


@pytest.mark.parametrize(
    "amounts", [[-10, 9], [10], [0, 0], [-10, 10.0]], ids=["unbalanced", "one-leg", "zero", "float"]
)
def test_malformed_transactions_are_refused_and_leave_nothing(issuance, wallet, amounts):
    accounts = [issuance, wallet]
    with pytest.raises(UnbalancedTransaction):
        transaction_post(kind="bad", legs=[Leg(accounts[i], a) for i, a in enumerate(amounts)])
    assert not LedgerTransaction.objects.exists()


def test_units_must_balance_separately(issuance, wallet):
    grams = LedgerAccountFactory(unit=Unit.GRAMS)
    with pytest.raises(UnbalancedTransaction):
        transaction_post(kind="mixed", legs=[Leg(issuance, -10), Leg(grams, 10)])


def test_a_bounded_account_never_goes_below_zero(issuance, wallet):
    fund(issuance, wallet, 50)
    sink = LedgerAccountFactory(kind="sink")
    with pytest.raises(InsufficientBalance) as refused:
        transaction_post(kind="spend", legs=[Leg(wallet, -51), Leg(sink, 51)])
    assert refused.value.available == 50
    wallet.refresh_from_db()
    assert wallet.balance == 50
    assert LedgerTransaction.objects.count() == 1


def test_the_same_idempotency_key_posts_once_and_returns_the_first(issuance, wallet):
    first = fund(issuance, wallet, 40, idempotency_key="credit:action:1")
    again = fund(issuance, wallet, 40, idempotency_key="credit:action:1")
    assert again.pk == first.pk
    wallet.refresh_from_db()
    assert wallet.balance == 40


def test_an_idempotency_key_reused_for_another_transaction_is_refused(issuance, wallet):
    fund(issuance, wallet, 40, idempotency_key="k1")
    with pytest.raises(IdempotencyConflict):
        fund(issuance, wallet, 41, idempotency_key="k1")


def test_a_correction_reverses_and_references_the_original(issuance, wallet):
    original = fund(issuance, wallet, 70, reference="action:9")
    correction = transaction_reverse(original=original)
    assert correction.corrects == original
    assert correction.reference == "action:9"
    wallet.refresh_from_db()
    assert wallet.balance == 0
    assert transaction_reverse(original=original).pk == correction.pk  # a retry reverses once
    assert ledger_check().ok


def test_postgres_refuses_to_update_or_delete_postings(issuance, wallet):
    fund(issuance, wallet, 5)
    posting = wallet.postings.get()
    for statement in (
        f"UPDATE ledger_posting SET amount = 6 WHERE id = {posting.pk}",
        f"DELETE FROM ledger_posting WHERE id = {posting.pk}",
        f"DELETE FROM ledger_ledgertransaction WHERE id = {posting.transaction_id}",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert Posting.objects.get(pk=posting.pk).amount == 5


def test_postgres_refuses_postings_that_do_not_sum_to_zero(issuance, wallet):
    tx = LedgerTransaction.objects.create(kind="sneaky")
    with pytest.raises(IntegrityError), transaction.atomic():
        Posting.objects.bulk_create(
            [
                Posting(transaction=tx, account=issuance, unit="pt", amount=-5, balance_after=-5),
                Posting(transaction=tx, account=wallet, unit="pt", amount=6, balance_after=6),
            ]
        )
    assert not Posting.objects.exists()


def test_postgres_refuses_an_overdrawn_balance_even_without_the_service(wallet):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE ledger_ledgeraccount SET balance = -1 WHERE id = {wallet.pk}")


def test_history_of_several_accounts_pages_newest_first(issuance):
    from carbonpoints.ledger.selectors import account_postings

    a, b = LedgerAccountFactory(), LedgerAccountFactory(unit=Unit.GRAMS)
    grams_source = SourceAccountFactory(unit=Unit.GRAMS)
    for n in range(1, 6):
        fund(issuance, a, n)
        transaction_post(kind="issue", legs=[Leg(grams_source, -10 * n), Leg(b, 10 * n)])

    history = account_postings(account_ids=[a.pk, b.pk])

    assert history.count() == 10
    assert [p.amount for p in history[0:4]] == [50, 5, 40, 4]
    assert [p.amount for p in history[4:8]] == [30, 3, 20, 2]
    assert [p.amount for p in history.filter(unit=Unit.GRAMS)[0:2]] == [50, 40]
    assert history[0].transaction.kind == "issue"


def test_a_replayed_key_answers_with_the_first_even_when_the_account_is_drained_since(
    issuance, wallet
):
    fund(issuance, wallet, 30)
    sink = LedgerAccountFactory(kind="sink")
    first = transaction_post(
        kind="spend", legs=[Leg(wallet, -30), Leg(sink, 30)], idempotency_key="spend:1"
    )
    again = transaction_post(
        kind="spend", legs=[Leg(wallet, -30), Leg(sink, 30)], idempotency_key="spend:1"
    )
    assert again.pk == first.pk
    wallet.refresh_from_db()
    assert wallet.balance == 0


def test_a_refusal_inside_the_callers_transaction_leaves_it_usable(issuance, wallet):
    fund(issuance, wallet, 10)
    sink = LedgerAccountFactory(kind="sink")
    with transaction.atomic():
        with pytest.raises(InsufficientBalance):
            transaction_post(kind="spend", legs=[Leg(wallet, -11), Leg(sink, 11)])
        transaction_post(
            kind="spend", legs=[Leg(wallet, -10), Leg(sink, 10)]
        )  # the same transaction goes on
    wallet.refresh_from_db()
    assert wallet.balance == 0 and sink.balance == 10
    assert ledger_check().ok


def test_postgres_refuses_postings_to_missing_accounts_or_transactions_and_keeps_accounts(
    issuance, wallet
):
    posting = fund(issuance, wallet, 5).postings.order_by("id").first()
    missing = LedgerAccount.objects.order_by("-id").first().pk + 1000
    for statement, refusal in (  # balanced pairs, so only the references are wrong
        (
            "INSERT INTO ledger_posting (transaction_id, account_id, unit, amount, balance_after, created_at) "
            f"VALUES ({posting.transaction_id}, {missing}, 'pt', 1, 1, now()), "
            f"({posting.transaction_id}, {wallet.pk}, 'pt', -1, 0, now())",
            "missing account",
        ),
        (
            "INSERT INTO ledger_posting (transaction_id, account_id, unit, amount, balance_after, created_at) "
            f"VALUES ({posting.transaction_id + 1000}, {issuance.pk}, 'pt', 1, 1, now()), "
            f"({posting.transaction_id + 1000}, {wallet.pk}, 'pt', -1, 0, now())",
            "or transaction",
        ),
        (
            f"DELETE FROM ledger_ledgeraccount WHERE id = {wallet.pk}",
            "append-only: DELETE on ledger_ledgeraccount",
        ),
    ):
        with (
            pytest.raises(IntegrityError, match=refusal),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert Posting.objects.count() == 2 and LedgerAccount.objects.filter(pk=wallet.pk).exists()


def _statements(post):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        result = post()
    return result, [q["sql"] for q in queries.captured_queries]


def test_a_transaction_is_posted_by_one_statement_and_no_savepoint(issuance, wallet):
    fund(issuance, wallet, 5)
    sink = LedgerAccountFactory(kind="sink")
    with transaction.atomic():
        posted, statements = _statements(
            lambda: transaction_post(
                kind="spend",
                legs=[Leg(wallet, -2), Leg(sink, 2)],
                idempotency_key="spend:one",
                metadata={"why": "one statement"},
            )
        )
    assert len(statements) == 1 and "SAVEPOINT" not in statements[0]
    assert wallet.balance == 3 and sink.balance == 2  # handed back on the caller's objects
    wallet.refresh_from_db()
    sink.refresh_from_db()
    assert (wallet.balance, sink.balance) == (3, 2)
    assert list(
        posted.postings.order_by("id").values_list("account_id", "amount", "balance_after")
    ) == [
        (wallet.pk, -2, 3),
        (sink.pk, 2, 2),
    ]
    assert posted.metadata == {"why": "one statement"}
    assert ledger_check().ok


def test_the_one_statement_post_refuses_an_overdraft_and_writes_nothing(issuance, wallet):
    fund(issuance, wallet, 7)
    sink = LedgerAccountFactory(kind="sink")
    with pytest.raises(InsufficientBalance) as refused:
        transaction_post(
            kind="spend", legs=[Leg(wallet, -8), Leg(sink, 8)], idempotency_key="spend:over"
        )
    assert (refused.value.needed, refused.value.available) == (8, 7)
    assert not LedgerTransaction.objects.filter(idempotency_key="spend:over").exists()
    wallet.refresh_from_db()
    assert wallet.balance == 7 and wallet.postings.count() == 1


def test_two_legs_on_one_account_run_its_balance_leg_by_leg(issuance, wallet):
    """The running balance is per leg: a leg that would overdraw midway is refused."""
    fund(issuance, wallet, 10)
    sink = LedgerAccountFactory(kind="sink")
    posted = transaction_post(
        kind="spend", legs=[Leg(wallet, -4), Leg(sink, 4), Leg(wallet, -6), Leg(sink, 6)]
    )
    assert list(posted.postings.order_by("id").values_list("amount", "balance_after")) == [
        (-4, 6),
        (4, 4),
        (-6, 0),
        (6, 10),
    ]
    fund(issuance, wallet, 5)
    with pytest.raises(InsufficientBalance) as refused:
        transaction_post(
            kind="spend", legs=[Leg(wallet, -6), Leg(sink, 6), Leg(wallet, 1), Leg(sink, -1)]
        )
    assert (refused.value.needed, refused.value.available) == (6, 5)
    assert ledger_check().ok


def test_a_replay_and_a_conflicting_key_write_nothing_more(issuance, wallet):
    sink = LedgerAccountFactory(kind="sink")
    fund(issuance, wallet, 9)
    first = transaction_post(
        kind="spend", legs=[Leg(wallet, -3), Leg(sink, 3)], idempotency_key="k"
    )
    again, statements = _statements(
        lambda: transaction_post(
            kind="spend", legs=[Leg(wallet, -3), Leg(sink, 3)], idempotency_key="k"
        )
    )
    assert again.pk == first.pk and len(statements) <= 2
    with pytest.raises(IdempotencyConflict):
        transaction_post(kind="spend", legs=[Leg(wallet, -4), Leg(sink, 4)], idempotency_key="k")
    wallet.refresh_from_db()
    assert wallet.balance == 6 and Posting.objects.filter(transaction=first).count() == 2
    assert ledger_check().ok


def test_a_post_tells_the_caches_which_balances_changed(issuance, wallet):
    from carbonpoints.ledger.signals import balances_changed

    heard = []

    def listener(sender, owners, **kwargs):
        heard.append(owners)

    balances_changed.connect(listener)
    try:
        fund(issuance, wallet, 3)
    finally:
        balances_changed.disconnect(listener)
    assert heard == [{(issuance.kind, issuance.owner_id), (wallet.kind, wallet.owner_id)}]
