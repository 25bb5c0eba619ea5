"""Reads of clearing between regions: the citizens' histories the pure core replays
(``redemption.clearing.replay``), the month's statement read from the ledger's clearing
postings, and ``ledger_check``'s proof per region (``ledger_problems``, named in the setting
``LEDGER_CHECKS``: the ledger itself knows nothing of regions).

Clearing reads the earn side's records (which budget funded a citizen's points), as the
statement did before it was posted; it never writes there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import CharField, Exists, OuterRef, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

from accounts import ledger_accounts as citizen_ledger
from carbonpoints.budgets import ledger_accounts as budget_ledger
from carbonpoints.budgets.models import Budget
from carbonpoints.budgets.selectors import yuan_per_point
from carbonpoints.earn.models import ActionRecord, ActionState
from carbonpoints.ledger.models import LedgerAccount, LedgerTransaction, Posting

from . import ledger_accounts as spend_ledger
from .clearing import (
    Credit,
    Drawn,
    Expiry,
    Holding,
    Replay,
    Reversal,
    Spend,
    Statement,
    replay,
    statement_of,
)
from .models import Checkout, Redemption

REFUND_KIND = "correction"
"""A refunded spend's clearing is reversed by a correcting transaction (as every refund is)."""


def clearing_key(spend_key: str) -> str:
    """The idempotency key of a spend's clearing (``clearing:redemption:12``)."""
    return f"clearing:{spend_key}"


def refund_key(spend_key: str) -> str:
    """The idempotency key of the reversal of a refunded spend's clearing."""
    return f"clearing:refund:{spend_key}"


def _keyed(prefix: str) -> Concat:
    return Concat(Value(prefix), Cast("pk", CharField()), output_field=CharField())


def uncleared_citizens(*, until: datetime) -> set[int]:
    """Citizens with a spend not cleared yet (made by ``until``, not refunded first) or a refunded
    spend whose clearing is not reversed yet. Each set is one anti-join on the unique key."""
    citizens: set[int] = set()
    for model, kind, live, points in (
        (Redemption, "redemption", ~Q(status=Redemption.Status.REFUNDED), "points_spent"),
        (Checkout, "checkout", Q(status=Checkout.Status.PAID), "points_used"),
    ):
        rows = model.objects.filter(created_at__lte=until, **{f"{points}__gt": 0})
        cleared = Exists(
            LedgerTransaction.objects.filter(idempotency_key=OuterRef("_clearing_key"))
        )
        undone = Exists(LedgerTransaction.objects.filter(idempotency_key=OuterRef("_refund_key")))
        citizens |= set(
            rows.annotate(
                _clearing_key=_keyed(f"clearing:{kind}:"),
                _refund_key=_keyed(f"clearing:refund:{kind}:"),
            )
            .filter((live & ~cleared) | (~live & cleared & ~undone))
            .values_list("citizen_id", flat=True)
            .distinct()
        )
    return citizens


@dataclass
class History:
    credits: list[Credit] = field(default_factory=list)
    spends: list[Spend] = field(default_factory=list)
    reversals: list[Reversal] = field(default_factory=list)
    expiries: list[Expiry] = field(default_factory=list)

    def replay(self) -> Replay:
        return replay(self.credits, self.spends, reversals=self.reversals, expiries=self.expiries)


def histories(*, citizens: Iterable[int], until: datetime) -> dict[int, History]:
    """What the replay needs of these citizens up to ``until``: four reads, whatever their number.

    A credit is held from when its points became available (funded, settled); a reversed record
    is taken back when it was last changed (its reversal); expiries are the ledger's."""
    ids = sorted(set(citizens))
    out: dict[int, History] = defaultdict(History)
    if not ids:
        return out
    records = (
        ActionRecord.objects.filter(
            account_id__any=ids,
            state__in=(ActionState.CREDITED, ActionState.REVERSED),
            budget__isnull=False,
            points__gt=0,
        )
        .annotate(held_from=Coalesce("points_available_at", "credited_at"))
        .filter(held_from__lte=until)
        .values_list("account_id", "pk", "held_from", "points", "budget_id", "budget__region")
    )
    reversed_at = dict(
        ActionRecord.objects.filter(
            account_id__any=ids, state=ActionState.REVERSED, budget__isnull=False
        ).values_list("pk", "updated_at")
    )
    for account, pk, held_from, points, budget_id, region in records:
        out[account].credits.append(
            Credit(at=held_from, points=points or 0, budget_id=budget_id, region=region, record=pk)
        )
        if pk in reversed_at and reversed_at[pk] <= until:
            out[account].reversals.append(Reversal(at=reversed_at[pk], record=pk))
    for citizen, spend in _spends(ids, until):
        out[citizen].spends.append(spend)
    for owner, at, amount in Posting.objects.filter(
        account__kind=citizen_ledger.POINTS.kind,
        account__owner_id__any=ids,
        transaction__kind=budget_ledger.EXPIRE_KIND,
        created_at__lte=until,
    ).values_list("account__owner_id", "created_at", "amount"):
        out[owner].expiries.append(Expiry(at=at, points=-amount))
    return out


def _spends(ids: list[int], until: datetime) -> list[tuple[int, Spend]]:
    redemptions = Redemption.objects.filter(citizen_id__any=ids, created_at__lte=until).values_list(
        "citizen_id",
        "pk",
        "created_at",
        "points_spent",
        "scenario__merchant__region",
        "status",
        "refund_tx__created_at",
    )
    checkouts = Checkout.objects.filter(citizen_id__any=ids, created_at__lte=until).values_list(
        "citizen_id",
        "pk",
        "created_at",
        "points_used",
        "merchant__region",
        "status",
        Coalesce("reversed_at", "refund_tx__created_at"),
    )
    spends = []
    for kind, rows, undone in (
        ("redemption", redemptions, Redemption.Status.REFUNDED),
        ("checkout", checkouts, Checkout.Status.REVERSED),
    ):
        for citizen, pk, at, points, region, status, refunded_at in rows:
            refunded = refunded_at if status == undone and refunded_at is not None else None
            if refunded is not None and refunded > until:
                refunded = None  # not yet, as of ``until``
            spends.append(
                (
                    citizen,
                    Spend(
                        at=at,
                        points=points,
                        region=region,
                        key=f"{kind}:{pk}",
                        refunded_at=refunded,
                    ),
                )
            )
    return spends


def clearing_transactions(*, keys: Iterable[str]) -> dict[str, LedgerTransaction]:
    """The clearing (and reversal) transactions posted under these idempotency keys."""
    return {
        tx.idempotency_key: tx
        for tx in LedgerTransaction.objects.filter(idempotency_key__in=list(keys))
        if tx.idempotency_key
    }


def local_month(at: datetime) -> str:
    return f"{timezone.localtime(at):%Y-%m}"


def _parts(metadata: dict[str, Any], sign: int) -> Iterable[Drawn]:
    merchant_region = metadata["merchant_region"]
    spend = Spend(at=timezone.now(), points=0, region=merchant_region, key=metadata["spend"])
    for funded_in, budget_id, points in metadata["parts"]:
        yield Drawn(spend=spend, points=sign * points, budget_id=budget_id, funded_in=funded_in)


def statement(*, month: date) -> Statement:
    """The month's clearing statement, read from the ledger: the clearing of the spends made in
    the month, less the reversals of the spends refunded in the month (of any month)."""
    label = f"{month:%Y-%m}"
    posted = LedgerTransaction.objects.filter(
        kind=spend_ledger.CLEARING_KIND, metadata__month=label
    ).values_list("metadata", flat=True)
    undone = LedgerTransaction.objects.filter(
        kind=REFUND_KIND, corrects__kind=spend_ledger.CLEARING_KIND, metadata__month=label
    ).values_list("corrects__metadata", flat=True)
    drawn: list[Drawn] = []
    regions: dict[str, Holding] = defaultdict(Holding)
    taken: dict[str, int] = defaultdict(int)
    for rows, sign in ((posted, 1), (undone, -1)):
        for metadata in rows:
            for part in _parts(metadata, sign):
                drawn.append(part)
                regions[part.funded_in].spent += part.points
            taken[metadata["merchant_region"]] += sign * metadata["points"]
    rates = {
        budget.pk: yuan_per_point(budget)
        for budget in Budget.objects.filter(pk__in={part.budget_id for part in drawn})
    }
    report = statement_of(drawn, month=month, rates=rates)
    report.regions = dict(sorted(regions.items()))
    report.taken = dict(sorted(taken.items()))
    report.posted_until = (
        LedgerTransaction.objects.filter(kind=spend_ledger.CLEARING_KIND)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return report


def _region_of(owner_id: int) -> str:
    return f"{owner_id:06d}" if owner_id else "unfunded"


def ledger_problems() -> dict[str, Any]:
    """``ledger_check``'s proof per region (a ``LEDGER_CHECKS`` hook).

    - The clearing accounts sum to zero.
    - Each region's clearing accounts hold what the spends say: its merchants' account the points
      spent there, its funding account minus the points its budgets funded of them, oldest first
      (every spend whose clearing is posted and not reversed, replayed from the records, the
      spends and the ledger's expiries).
    - Each region's points add up: issued (funded by its budgets) = held + spent + expired +
      reversed, none negative; ``figures`` gives them per region.
    """
    problems: list[dict[str, Any]] = []
    accounts = {
        (kind, owner): balance
        for kind, owner, balance in LedgerAccount.objects.filter(
            kind__in=spend_ledger.CLEARING_KINDS
        ).values_list("kind", "owner_id", "balance")
    }
    total = sum(accounts.values())
    if total:
        problems.append({"check": "clearing_unbalanced", "sum": total})
    keys = set(
        LedgerTransaction.objects.filter(kind=spend_ledger.CLEARING_KIND).values_list(
            "idempotency_key", flat=True
        )
    )
    undone = set(
        LedgerTransaction.objects.filter(
            kind=REFUND_KIND, corrects__kind=spend_ledger.CLEARING_KIND
        ).values_list("corrects__idempotency_key", flat=True)
    )
    now = timezone.now()
    expiring = Posting.objects.filter(
        account__kind=citizen_ledger.POINTS.kind, transaction__kind=budget_ledger.EXPIRE_KIND
    ).values_list("account__owner_id", flat=True)
    replayed = (
        set(Redemption.objects.values_list("citizen_id", flat=True))
        | set(Checkout.objects.values_list("citizen_id", flat=True))
        | set(expiring)
    )
    derived: dict[tuple[str, int], int] = defaultdict(int)
    holdings: dict[str, Holding] = defaultdict(Holding)
    ids = sorted(replayed)
    for start in range(0, len(ids), 2000):
        for history in histories(citizens=ids[start : start + 2000], until=now).values():
            result = history.replay()
            for region, holding in result.holdings.items():
                holdings[region].add(holding)
            parts = _by_spend(result.drawn)
            for spend in history.spends:
                key = clearing_key(spend.key)
                if key not in keys or key in undone:
                    continue
                owner = spend_ledger.region_owner(spend.region)
                derived[(spend_ledger.CLEARING_TAKEN.kind, owner)] += spend.points
                funded = 0
                for part in parts.get(spend.key, ()):
                    derived[(spend_ledger.CLEARING_FUNDED.kind, int(part.funded_in))] -= part.points
                    funded += part.points
                derived[(spend_ledger.CLEARING_FUNDED.kind, spend_ledger.UNFUNDED)] -= (
                    spend.points - funded
                )
    for (kind, owner), expected in sorted(derived.items() | accounts.items()):
        ledger, expected = accounts.get((kind, owner), 0), derived.get((kind, owner), 0)
        if ledger != expected:
            problems.append(
                {
                    "check": "clearing_mismatch",
                    "region": _region_of(owner),
                    "kind": kind,
                    "ledger": ledger,
                    "derived": expected,
                }
            )
    for region, issued, reversed_points in _not_replayed(replayed):
        holding = holdings[region]
        holding.issued += issued
        holding.reversed += reversed_points
        holding.held += issued - reversed_points
    figures = {}
    for region, holding in sorted(holdings.items()):
        figures[region] = {
            "issued": holding.issued,
            "held": holding.held,
            "spent": holding.spent,
            "expired": holding.expired,
            "reversed": holding.reversed,
            "cleared_out": -accounts.get(
                (spend_ledger.CLEARING_FUNDED.kind, spend_ledger.region_owner(region)), 0
            ),
            "cleared_in": accounts.get(
                (spend_ledger.CLEARING_TAKEN.kind, spend_ledger.region_owner(region)), 0
            ),
        }
        if not holding.adds_up:
            problems.append(
                {"check": "region_points_dont_add_up", "region": region, **figures[region]}
            )
    return {"name": "clearing", "problems": problems, "figures": figures}


def _by_spend(drawn: list[Drawn]) -> dict[str, list[Drawn]]:
    parts: dict[str, list[Drawn]] = defaultdict(list)
    for part in drawn:
        parts[part.spend.key].append(part)
    return parts


def _not_replayed(replayed: set[int]) -> list[tuple[str, int, int]]:
    """Per funding region, the points issued to (and reversed of) citizens who never spent nor
    lost points to expiry: all of it is held, but what was reversed. One aggregate."""
    rows = (
        ActionRecord.objects.filter(
            state__in=(ActionState.CREDITED, ActionState.REVERSED),
            budget__isnull=False,
            points__gt=0,
        )
        .annotate(held_from=Coalesce("points_available_at", "credited_at"))
        .filter(held_from__lte=timezone.now())
        .exclude(account_id__any=sorted(replayed))
        .values("budget__region")
        .annotate(
            issued=Sum("points"),
            reversed_points=Sum("points", filter=Q(state=ActionState.REVERSED)),
        )
        .values_list("budget__region", "issued", "reversed_points")
    )
    return [(region, int(issued), int(rev or 0)) for region, issued, rev in rows]
