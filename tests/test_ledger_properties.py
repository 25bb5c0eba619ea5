"""Property tests: any sequence of postings, accepted or refused, keeps every ledger invariant."""

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from carbonpoints.ledger.exceptions import InsufficientBalance
from carbonpoints.ledger.models import LedgerAccount, Posting
from carbonpoints.ledger.selectors import ledger_check
from carbonpoints.ledger.services import Leg, transaction_post
from tests.factories import LedgerAccountFactory, SourceAccountFactory

ACCOUNTS = 5  # index 0 is a source that may go negative, the rest are bounded

transfer = st.tuples(
    st.integers(0, ACCOUNTS - 1), st.integers(0, ACCOUNTS - 1), st.integers(1, 500)
).filter(lambda t: t[0] != t[1])
key = st.one_of(st.none(), st.sampled_from(["k1", "k2", "k3"]))


class LedgerProperties(TestCase):
    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.tuples(transfer, key), max_size=25))
    def test_random_postings_keep_every_invariant(self, operations):
        accounts = [SourceAccountFactory()] + [LedgerAccountFactory() for _ in range(ACCOUNTS - 1)]
        expected = [0] * ACCOUNTS
        first_use: dict[str, tuple] = {}
        for (frm, to, amount), idempotency_key in operations:
            if idempotency_key in first_use and first_use[idempotency_key] != (frm, to, amount):
                continue  # reusing a key for something else is refused; covered elsewhere
            try:
                transaction_post(
                    kind="move",
                    legs=[Leg(accounts[frm], -amount), Leg(accounts[to], amount)],
                    idempotency_key=idempotency_key,
                )
            except InsufficientBalance:
                assert expected[frm] - amount < 0 and frm != 0
                continue
            if idempotency_key is None or idempotency_key not in first_use:
                expected[frm] -= amount
                expected[to] += amount
            if idempotency_key:
                first_use[idempotency_key] = (frm, to, amount)

        balances = [LedgerAccount.objects.get(pk=a.pk).balance for a in accounts]
        assert balances == expected
        assert all(balance >= 0 for balance in balances[1:])
        assert sum(balances) == 0
        assert ledger_check().ok, ledger_check().problems
        assert not Posting.objects.filter(amount=0).exists()
