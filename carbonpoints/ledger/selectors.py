"""Reads of the ledger, including the re-derivation of every balance (``ledger_check``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils.module_loading import import_string

from .models import LedgerAccount, LedgerTransaction, Posting


class PostingHistory:
    """Postings of several accounts, newest first, read one account at a time.

    ``account_id IN (…) ORDER BY id DESC LIMIT n`` tempts PostgreSQL into walking the whole
    posting table backwards by primary key until n rows match — fine for a busy account,
    ruinous for a quiet one in a ledger of millions. Reading each account's newest rows through
    its own (account, id) index and merging them keeps a page's cost to the page, whatever the
    size of the ledger. It offers what a paginator needs: ``count()``, slicing and ``filter()``.
    """

    def __init__(self, querysets: list[QuerySet[Posting]]) -> None:
        self._querysets = querysets

    def filter(self, *args: Any, **kwargs: Any) -> PostingHistory:
        return PostingHistory([qs.filter(*args, **kwargs) for qs in self._querysets])

    def count(self) -> int:
        return sum(qs.count() for qs in self._querysets)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: int | slice) -> Any:
        if not isinstance(window, slice):
            return self[window : window + 1][0]
        start, stop = window.start or 0, window.stop
        if stop is None:
            raise ValueError("a posting history is read a page at a time")
        newest = sorted(
            (
                pk
                for qs in self._querysets
                for pk in qs.order_by("-id").values_list("id", flat=True)[:stop]
            ),
            reverse=True,
        )[start:stop]
        rows = Posting.objects.select_related("transaction", "account").in_bulk(newest)
        return [rows[pk] for pk in newest]


def account_postings(*, account_ids: list[int]) -> PostingHistory:
    """Postings of these accounts, newest first, with their transaction (for history pages)."""
    return PostingHistory(
        [Posting.objects.filter(account_id=pk) for pk in sorted(set(account_ids))]
    )


@dataclass
class LedgerCheckReport:
    accounts_checked: int = 0
    transactions_checked: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    """What each of the ``LEDGER_CHECKS`` proved, by its name (e.g. clearing: per region)."""

    @property
    def ok(self) -> bool:
        return not self.problems


_CHECKS = {
    # each query returns the rows that break one invariant
    "balance_mismatch": """
        SELECT a.id, a.kind, a.owner_id, a.unit, a.balance, COALESCE(SUM(p.amount), 0)
        FROM ledger_ledgeraccount a LEFT JOIN ledger_posting p ON p.account_id = a.id
        GROUP BY a.id, a.kind, a.owner_id, a.unit, a.balance
        HAVING a.balance <> COALESCE(SUM(p.amount), 0)
    """,
    "unbalanced_transaction": """
        SELECT transaction_id, unit, SUM(amount) FROM ledger_posting
        GROUP BY transaction_id, unit HAVING SUM(amount) <> 0
    """,
    "unit_mismatch": """
        SELECT p.id, p.unit, a.unit FROM ledger_posting p
        JOIN ledger_ledgeraccount a ON a.id = p.account_id WHERE p.unit <> a.unit
    """,
    "running_balance_mismatch": """
        SELECT id, account_id, balance_after, running FROM (
            SELECT id, account_id, balance_after,
                   SUM(amount) OVER (PARTITION BY account_id ORDER BY id) AS running
            FROM ledger_posting) t
        WHERE balance_after <> running
    """,
    "overdraft": """
        SELECT id, kind, owner_id, unit, balance FROM ledger_ledgeraccount
        WHERE balance < 0 AND NOT allow_negative
    """,
}
_FIELDS = {
    "balance_mismatch": ["account_id", "kind", "owner_id", "unit", "balance", "derived"],
    "unbalanced_transaction": ["transaction_id", "unit", "sum"],
    "unit_mismatch": ["posting_id", "posting_unit", "account_unit"],
    "running_balance_mismatch": ["posting_id", "account_id", "balance_after", "derived"],
    "overdraft": ["account_id", "kind", "owner_id", "unit", "balance"],
}
MAX_ROWS_PER_CHECK = 100


def _kinds_match(column: str, kinds: Sequence[str]) -> tuple[str, list[str]]:
    """SQL condition (and its parameters) for accounts of these kinds; ``pool_*`` is a prefix."""
    parts, params = [], []
    for kind in kinds:
        if kind.endswith("*"):
            parts.append(f"{column} LIKE %s ESCAPE '\\'")
            params.append(kind[:-1].replace("_", r"\_") + "%")  # "_" is a LIKE wildcard
        else:
            parts.append(f"{column} = %s")
            params.append(kind)
    return "(" + " OR ".join(parts) + ")", params


def _equal_views_problems(cursor: Any) -> list[dict[str, Any]]:
    """Views the settings say must hold the same amount (``LEDGER_EQUAL_VIEWS``), where they don't.

    The ledger knows nothing of who owns which kind of account: the views are data.
    """
    problems = []
    for view in settings.LEDGER_EQUAL_VIEWS:
        left, left_params = _kinds_match("kind", view["left"])
        right, right_params = _kinds_match("kind", view["right"])
        cursor.execute(
            f"SELECT COALESCE(SUM(CASE WHEN {left} THEN balance ELSE 0 END), 0), "
            f"COALESCE(SUM(CASE WHEN {right} THEN balance ELSE 0 END), 0) "
            f"FROM {LedgerAccount._meta.db_table} WHERE unit = %s",
            [*left_params, *right_params, view["unit"]],
        )
        left_total, right_total = (int(v) for v in cursor.fetchone())
        if left_total != right_total:
            problems.append(
                {
                    "check": "views_differ",
                    "view": view["name"],
                    "unit": view["unit"],
                    "left": left_total,
                    "right": right_total,
                }
            )
    return problems


def ledger_check() -> LedgerCheckReport:
    """Re-derive every balance from the postings and list whatever disagrees, and prove the
    views that must agree do (``LEDGER_EQUAL_VIEWS``: contribution = claim), then the apps'
    own proofs (``LEDGER_CHECKS``: clearing between regions)."""
    report = LedgerCheckReport(
        accounts_checked=LedgerAccount.objects.count(),
        transactions_checked=LedgerTransaction.objects.count(),
    )
    with connection.cursor() as cursor:
        for check, sql in _CHECKS.items():
            cursor.execute(f"{sql} LIMIT {MAX_ROWS_PER_CHECK}")
            for row in cursor.fetchall():
                values = [int(v) if isinstance(v, Decimal) else v for v in row]  # PostgreSQL SUM
                report.problems.append(
                    {"check": check, **dict(zip(_FIELDS[check], values, strict=True))}
                )
        report.problems.extend(_equal_views_problems(cursor))
    for path in getattr(settings, "LEDGER_CHECKS", []):
        section = import_string(path)()
        report.problems.extend(section["problems"])
        report.figures[section["name"]] = section["figures"]
    return report
