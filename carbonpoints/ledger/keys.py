"""Typed names of ledger accounts: what an account is, whose it is, in what unit.

Accounts are found by their natural key ``(kind, owner_id, unit)``. Writers name them with these
tuples' fields (``key.kind``) rather than positions, so a leg reads as what it moves.
"""

from __future__ import annotations

from typing import NamedTuple


class AccountKey(NamedTuple):
    """One ledger account's natural key (its unique index)."""

    kind: str
    owner_id: int
    unit: str


class AccountKind(NamedTuple):
    """A kind of account every owner of some sort has (each citizen, each merchant)."""

    kind: str
    unit: str

    def of(self, owner_id: int) -> AccountKey:
        """This kind's account of ``owner_id``.

        Made with ``tuple.__new__``, past the named tuple's generated ``__new__``: a batch's
        credit names thousands of accounts, and that call was most of their cost."""
        return _new(AccountKey, (self.kind, owner_id, self.unit))


_new = tuple.__new__
