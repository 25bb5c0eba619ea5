"""Clearing between cities: points spent at another city's merchant are owed to it by the region
whose budgets funded them, oldest credits first; the month's statement nets each pair."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from redemption.clearing import Credit, Spend, attribute, statement_of

T0 = datetime(2026, 12, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
WUHAN, YICHANG, XIANGYANG = "420100", "420500", "420600"


def _at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


def test_a_spend_draws_on_the_oldest_credits_first():
    credits = [
        Credit(_at(2), 50, budget_id=2, region=YICHANG),
        Credit(_at(1), 30, budget_id=1, region=WUHAN),
    ]

    drawn = attribute(credits, [Spend(_at(3), 40, XIANGYANG), Spend(_at(4), 25, XIANGYANG)])

    assert [(d.funded_in, d.points) for d in drawn] == [(WUHAN, 30), (YICHANG, 10), (YICHANG, 25)]


def test_points_beyond_the_funded_credits_are_not_cleared():
    drawn = attribute(
        [Credit(_at(1), 10, budget_id=1, region=WUHAN)], [Spend(_at(2), 25, XIANGYANG)]
    )

    assert [(d.funded_in, d.points) for d in drawn] == [(WUHAN, 10)]


def test_the_statement_nets_each_pair_at_each_budget_rate():
    drawn = attribute(
        [
            Credit(_at(1), 100, budget_id=1, region=WUHAN),
            Credit(_at(1), 100, budget_id=2, region=YICHANG),
        ],
        [Spend(_at(2), 100, YICHANG), Spend(_at(3), 30, WUHAN)],
    )
    drawn += attribute(
        [Credit(_at(1), 10, budget_id=2, region=YICHANG)], [Spend(_at(2), 10, YICHANG)]
    )

    report = statement_of(
        drawn, month=date(2026, 12, 1), rates={1: Decimal("0.01"), 2: Decimal("0.02")}
    )

    assert [(line.owes, line.to, line.points, line.yuan) for line in report.gross] == [
        (WUHAN, YICHANG, 100, Decimal("1.00")),
        (YICHANG, WUHAN, 30, Decimal("0.60")),
    ]
    assert [(line.owes, line.to, line.points, line.yuan) for line in report.net] == [
        (WUHAN, YICHANG, 70, Decimal("0.40"))
    ]
