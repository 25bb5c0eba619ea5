"""Clearing between cities: which region's budgets funded the points a citizen spent at a merchant
of another region, posted to the ledger, and the month's statement that nets each pair of regions.

A citizen's points are one balance; the budgets that funded them are known from the credited
records. ``replay`` is the pure core: a citizen's history (funded credits, reversals, expiries,
spends and their refunds) in time order, each spend and each expiry drawing on the citizen's
oldest funded points still held (the order expiry takes them in), a reversal taking its record's
points back, a refund putting its spend's points back where they were drawn. It gives, per
spend, the parts each funding region paid (``Drawn``) and, per region, what was issued, spent,
expired, reversed and is still held (``Holding``). The posting (``redemption.services.clearing``),
the statement and ``ledger_check``'s proof per region (``ledger_problems``) all use it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_EVEN, Decimal

from django.utils import timezone


@dataclass(frozen=True, slots=True)
class Credit:
    """Funded points of one credited record: ``points`` from ``budget`` of ``region``, held from
    ``at`` (when they became the citizen's)."""

    at: datetime
    points: int
    budget_id: int
    region: str
    record: int = 0
    """The record's id (0: unknown), so a reversal finds its own points."""


@dataclass(frozen=True, slots=True)
class Spend:
    """Points spent at a merchant of ``region`` (a redemption, donation or a till's checkout)."""

    at: datetime
    points: int
    region: str
    key: str = ""
    """What it is, e.g. ``redemption:12`` (the clearing's idempotency key is made of it)."""
    refunded_at: datetime | None = None
    """When its points went back to the citizen (a refunded voucher, a reversed checkout)."""


@dataclass(frozen=True, slots=True)
class Reversal:
    """An operator or a partner reversed record ``record`` at ``at``: its points still held go."""

    at: datetime
    record: int


@dataclass(frozen=True, slots=True)
class Expiry:
    """``points`` of the citizen's expired at ``at`` (taken oldest first)."""

    at: datetime
    points: int


@dataclass(frozen=True, slots=True)
class Drawn:
    """Part of a spend, drawn on one budget."""

    spend: Spend
    points: int
    budget_id: int
    funded_in: str


@dataclass
class Holding:
    """One funding region's points in a citizen's (or everyone's) hands: issued = held + spent +
    expired + reversed, each never negative."""

    issued: int = 0
    spent: int = 0
    expired: int = 0
    reversed: int = 0
    held: int = 0

    def add(self, other: Holding) -> None:
        for name in ("issued", "spent", "expired", "reversed", "held"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def adds_up(self) -> bool:
        parts = (self.spent, self.expired, self.reversed, self.held)
        return min(parts) >= 0 and self.issued == sum(parts)


@dataclass
class Replay:
    drawn: list[Drawn] = field(default_factory=list)
    """Every spend's parts, refunded ones too (their clearing is posted, then reversed)."""
    holdings: dict[str, Holding] = field(default_factory=lambda: defaultdict(Holding))


@dataclass(slots=True)
class _Lot:
    credit: Credit
    left: int


# at equal instants: points arrive before they go
_CREDIT, _REFUND, _REVERSAL, _EXPIRY, _SPEND = range(5)


def replay(
    credits: Iterable[Credit],
    spends: Iterable[Spend],
    *,
    reversals: Iterable[Reversal] = (),
    expiries: Iterable[Expiry] = (),
) -> Replay:
    """One citizen's history in time order (pure). Points spent or expired beyond what the
    credits funded are left out (nothing funded them here: points issued before budgets)."""
    lots: list[_Lot] = []
    by_record: dict[int, _Lot] = {}
    out = Replay()
    events: list[tuple[datetime, int, int, object]] = []
    for n, credit in enumerate(credits):
        events.append((credit.at, _CREDIT, n, credit))
    for n, spend in enumerate(spends):
        events.append((spend.at, _SPEND, n, spend))
        if spend.refunded_at is not None:
            events.append((spend.refunded_at, _REFUND, n, spend))
    events += [(r.at, _REVERSAL, n, r) for n, r in enumerate(reversals)]
    events += [(e.at, _EXPIRY, n, e) for n, e in enumerate(expiries)]
    events.sort(key=lambda event: event[:3])
    taken: dict[int, list[tuple[_Lot, int]]] = {}  # spend's index → its draws, for a refund

    def draw(points: int) -> list[tuple[_Lot, int]]:
        parts = []
        for lot in lots:  # oldest first
            if not points:
                break
            take = min(points, lot.left)
            if take:
                lot.left -= take
                points -= take
                parts.append((lot, take))
        return parts

    for _at, what, n, event in events:
        if isinstance(event, Credit):
            lot = _Lot(event, event.points)
            lots.append(lot)
            if event.record:
                by_record[event.record] = lot
            out.holdings[event.region].issued += event.points
        elif isinstance(event, Reversal):
            lot_or_none = by_record.get(event.record)
            if lot_or_none is not None and lot_or_none.left:
                out.holdings[lot_or_none.credit.region].reversed += lot_or_none.left
                lot_or_none.left = 0
        elif isinstance(event, Expiry):
            for lot, take in draw(event.points):
                out.holdings[lot.credit.region].expired += take
        elif isinstance(event, Spend) and what == _SPEND:
            taken[n] = draw(event.points)
            for lot, take in taken[n]:
                out.holdings[lot.credit.region].spent += take
                out.drawn.append(
                    Drawn(
                        spend=event,
                        points=take,
                        budget_id=lot.credit.budget_id,
                        funded_in=lot.credit.region,
                    )
                )
        elif isinstance(event, Spend):  # its refund: the points go back where they came from
            for lot, take in taken.get(n, []):
                lot.left += take
                out.holdings[lot.credit.region].spent -= take
    for lot in lots:
        out.holdings[lot.credit.region].held += lot.left
    return out


def attribute(credits: Iterable[Credit], spends: Iterable[Spend]) -> list[Drawn]:
    """Each spend, in time order, drawn on the citizen's oldest funded credits not spent yet;
    points spent beyond what the credits funded are left out (nothing funded them here)."""
    return replay(credits, spends).drawn


@dataclass
class Line:
    """What one region owes another for the month: the points spent at the other's merchants that
    its budgets funded, and their money at each budget's published rate."""

    owes: str
    to: str
    points: int = 0
    yuan: Decimal = Decimal(0)


@dataclass
class Statement:
    month: str
    gross: list[Line] = field(default_factory=list)
    net: list[Line] = field(default_factory=list)
    """Each pair of regions once: who owes whom, after what they owe each other."""
    regions: dict[str, Holding] = field(default_factory=dict)
    """Per region, the points its budgets funded that were spent (anywhere) in the month, and the
    points spent at its merchants (``taken``), refunds of the month deducted."""
    taken: dict[str, int] = field(default_factory=dict)
    posted_until: datetime | None = None

    def within(self, regions: list[str] | None) -> Statement:
        """The lines that involve one of ``regions`` (None: all)."""
        if regions is None:
            return self
        mine = set(regions)
        return Statement(
            month=self.month,
            gross=[line for line in self.gross if {line.owes, line.to} & mine],
            net=[line for line in self.net if {line.owes, line.to} & mine],
            regions={code: h for code, h in self.regions.items() if code in mine},
            taken={code: n for code, n in self.taken.items() if code in mine},
            posted_until=self.posted_until,
        )


CENT = Decimal("0.01")


def statement_of(
    drawn: Iterable[Drawn], *, month: date, rates: dict[int, Decimal | None]
) -> Statement:
    """The month's statement from the drawn parts of its spends (those at a merchant of the region
    that funded them are not cleared; a part of negative points is a refund taken off)."""
    gross: dict[tuple[str, str], Line] = {}
    for part in drawn:
        if part.funded_in == part.spend.region:
            continue
        line = gross.setdefault(
            (part.funded_in, part.spend.region), Line(part.funded_in, part.spend.region)
        )
        line.points += part.points
        line.yuan += part.points * (rates.get(part.budget_id) or Decimal(0))
    gross = {pair: line for pair, line in gross.items() if line.points or line.yuan}
    net: list[Line] = []
    for (a, b), line in sorted(gross.items()):
        if (b, a) in gross and (b, a) < (a, b):
            continue  # netted with its pair already
        back = gross.get((b, a), Line(b, a))
        points, yuan = line.points - back.points, line.yuan - back.yuan
        if points or yuan:
            net.append(Line(a, b, points, yuan) if points >= 0 else Line(b, a, -points, -yuan))
    for line in [*gross.values(), *net]:
        line.yuan = line.yuan.quantize(CENT, rounding=ROUND_HALF_EVEN)
    return Statement(
        month=f"{month:%Y-%m}",
        gross=sorted(gross.values(), key=lambda line: (line.owes, line.to)),
        net=net,
    )


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The local month's first instant and the next month's."""
    tz = timezone.get_current_timezone()
    first = month.replace(day=1)
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return datetime.combine(first, time.min, tzinfo=tz), datetime.combine(
        following, time.min, tzinfo=tz
    )


CSV_COLUMNS = ["month", "kind", "owes", "to", "points", "yuan"]


def statement_rows(report: Statement) -> list[list[str]]:
    """The statement as CSV rows: the net lines, then the gross ones (the columns of before)."""
    rows = [list(CSV_COLUMNS)]
    for kind, lines in (("net", report.net), ("gross", report.gross)):
        rows += [
            [report.month, kind, line.owes, line.to, str(line.points), f"{line.yuan:.2f}"]
            for line in lines
        ]
    return rows
