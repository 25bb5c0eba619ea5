"""Clearing between cities: points spent at another city's merchant are owed to it by the region
whose budgets funded them, oldest credits first; the month's statement nets each pair."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from redemption.clearing import Credit, Expiry, Reversal, Spend, attribute, replay, statement_of

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


# Properties of the pure core: whatever a citizen's history, per funding region issued = held +
# spent + expired + reversed (none negative), and no spend draws more than was funded.

REGIONS = [WUHAN, YICHANG, XIANGYANG]
event_strategy = st.one_of(
    st.tuples(st.just("credit"), st.integers(1, 200), st.sampled_from(REGIONS)),
    st.tuples(st.just("spend"), st.integers(1, 300), st.sampled_from(REGIONS), st.booleans()),
    st.tuples(st.just("expire"), st.integers(1, 300)),
    st.tuples(st.just("reverse"), st.integers(0, 10)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(event_strategy, max_size=30))
def test_each_region_adds_up_and_nothing_is_drawn_beyond_its_funding(events):
    credits, spends, reversals, expiries = [], [], [], []
    for hour, event in enumerate(events):
        if event[0] == "credit":
            credits.append(
                Credit(
                    _at(hour),
                    event[1],
                    budget_id=REGIONS.index(event[2]),
                    region=event[2],
                    record=len(credits) + 1,
                )
            )
        elif event[0] == "spend":
            refunded = _at(hour + 5) if event[3] else None
            spends.append(
                Spend(_at(hour), event[1], event[2], key=f"s{hour}", refunded_at=refunded)
            )
        elif event[0] == "expire":
            expiries.append(Expiry(_at(hour), event[1]))
        else:
            reversals.append(Reversal(_at(hour), event[1]))

    result = replay(credits, spends, reversals=reversals, expiries=expiries)

    for region, holding in result.holdings.items():
        assert holding.adds_up, (region, holding)
        assert holding.issued == sum(c.points for c in credits if c.region == region)
    for spend in spends:
        drawn = sum(part.points for part in result.drawn if part.spend is spend)
        assert 0 <= drawn <= spend.points
    funded: dict[str, int] = {}
    for part in result.drawn:
        if part.spend.refunded_at is not None:
            continue  # drawn, then put back
        funded[part.funded_in] = funded.get(part.funded_in, 0) + part.points
    for region, points in funded.items():
        assert points <= sum(c.points for c in credits if c.region == region)


def test_a_refunded_spend_puts_its_points_back_where_they_were_drawn():
    credits = [
        Credit(_at(1), 30, budget_id=1, region=WUHAN),
        Credit(_at(2), 30, budget_id=2, region=YICHANG),
    ]
    first = Spend(_at(3), 30, XIANGYANG, key="a", refunded_at=_at(5))
    second = Spend(_at(4), 30, XIANGYANG, key="b")
    third = Spend(_at(6), 30, XIANGYANG, key="c")

    result = replay(credits, [first, second, third])

    assert [(d.spend.key, d.funded_in, d.points) for d in result.drawn] == [
        ("a", WUHAN, 30),
        ("b", YICHANG, 30),
        ("c", WUHAN, 30),
    ]
    assert result.holdings[WUHAN].spent == 30 and result.holdings[WUHAN].held == 0


def test_reversed_and_expired_points_are_taken_off_oldest_first():
    credits = [
        Credit(_at(1), 10, budget_id=1, region=WUHAN, record=1),
        Credit(_at(2), 20, budget_id=2, region=YICHANG, record=2),
        Credit(_at(3), 40, budget_id=1, region=WUHAN, record=3),
    ]
    result = replay(
        credits,
        [Spend(_at(6), 30, XIANGYANG)],
        reversals=[Reversal(_at(4), record=1)],
        expiries=[Expiry(_at(5), 15)],
    )

    assert [(d.funded_in, d.points) for d in result.drawn] == [(YICHANG, 5), (WUHAN, 25)]
    assert (result.holdings[WUHAN].reversed, result.holdings[YICHANG].expired) == (10, 15)
    assert (result.holdings[YICHANG].held, result.holdings[WUHAN].held) == (0, 15)
