"""Which budget funds a credit, and when a budget runs out: the pure rules, no database."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from carbonpoints.budgets.models import BudgetLevel
from carbonpoints.budgets.rules import (
    WAITS_NO_FUNDS,
    WAITS_THROTTLED,
    BudgetState,
    Funding,
    Point,
    level_of,
    runs_out_at,
)
from carbonpoints.methodologies.quantify import points_for

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def budget(
    id: int = 1,
    *,
    balance: int = 1000,
    deposited: int = 1000,
    actions=(),
    ends_in_days: int = 30,
    throttle: str = "scale",
    factor: str = "0.5",
) -> BudgetState:
    return BudgetState(
        id=id,
        sponsor=f"S{id}",
        actions=frozenset(actions),
        ends_at=NOW + timedelta(days=ends_in_days),
        balance=balance,
        deposited=deposited,
        warn_below_percent=20,
        throttle_below_percent=10,
        throttle=throttle,
        throttle_factor=Decimal(factor),
    )


def grams(g: int, carried: int = 0):
    """What a credit of ``g`` grams earns at 10 g a point, at a share of its grams."""

    def earn(share: Decimal) -> tuple[int, int]:
        return points_for(
            grams=int((g * share).to_integral_value()), carried_g=carried, grams_per_point=10
        )

    return earn


def test_levels_are_the_share_of_the_deposit_left():
    levels = [
        level_of(balance=b, deposited=1000, warn_below_percent=20, throttle_below_percent=10)
        for b in (1000, 200, 199, 100, 99, 1, 0)
    ]
    assert levels == [
        "funded",
        "funded",
        "running_low",
        "running_low",
        "throttled",
        "throttled",
        "exhausted",
    ]


def test_a_funded_budget_pays_the_whole_credit_and_is_drawn_down():
    city = budget()
    funding = Funding([city])

    choice = funding.choose("metro_ride", grams(584, carried=7))

    assert (choice.budget, choice.points, choice.remainder_g, choice.factor) == (city, 59, 1, 1)
    assert city.balance == 941 and funding.drawn == {1: 59}


def test_a_budget_for_the_scene_pays_before_the_city_and_the_city_pays_other_scenes():
    city, bikes = budget(1, ends_in_days=300), budget(2, actions={"bike_ride"}, ends_in_days=60)
    funding = Funding([city, bikes])

    assert funding.choose("bike_ride", grams(100)).budget is bikes
    assert funding.choose("metro_ride", grams(100)).budget is city


def test_a_throttled_budget_scales_by_its_published_factor():
    funding = Funding([budget(balance=90, deposited=1000, factor="0.5")])  # 9 % left: below 10 %

    choice = funding.choose("metro_ride", grams(400))

    assert (choice.points, choice.factor) == (
        20,
        Decimal("0.5"),
    )  # 200 of the 400 g count for points
    assert funding.budgets[0].balance == 70


def test_a_pending_throttle_makes_the_credit_wait_and_draws_nothing():
    throttled = budget(balance=90, deposited=1000, throttle="pending")
    choice = Funding([throttled]).choose("metro_ride", grams(400))

    assert (choice.budget, choice.points, choice.waits) == (None, 40, WAITS_THROTTLED)
    assert throttled.balance == 90


def test_a_budget_that_cannot_pay_the_whole_credit_leaves_it_to_the_next_or_to_wait():
    small, city = budget(1, balance=3, deposited=10, actions={"metro_ride"}), budget(2, balance=0)
    funding = Funding([small, city])

    choice = funding.choose("metro_ride", grams(400))

    assert (choice.budget, choice.points, choice.waits) == (None, 40, WAITS_NO_FUNDS)
    assert small.balance == 3  # nothing taken: a credit is funded whole or not at all


def test_a_credit_that_waited_is_funded_whole_even_by_a_throttled_budget():
    throttled = budget(balance=90, deposited=1000)
    choice = Funding([throttled]).choose("metro_ride", lambda share: (40, 0), may_scale=False)
    assert (choice.budget, choice.points, choice.factor) == (throttled, 40, 1)


@given(
    balances=st.lists(st.integers(min_value=0, max_value=500), min_size=0, max_size=4),
    credits=st.lists(st.integers(min_value=0, max_value=3000), min_size=1, max_size=40),
    modes=st.lists(st.sampled_from(["scale", "pending"]), min_size=4, max_size=4),
)
def test_budgets_never_go_below_zero_and_every_point_is_either_funded_or_owed(
    balances, credits, modes
):
    budgets = [
        budget(n + 1, balance=b, deposited=500, throttle=modes[n]) for n, b in enumerate(balances)
    ]
    funding = Funding(budgets)
    funded = owed = 0
    for g in credits:
        choice = funding.choose("metro_ride", grams(g))
        if choice.budget is None:
            assert choice.waits and choice.factor == 1
            owed += choice.points
        else:
            assert choice.points <= g // 10  # a throttle only ever scales down
            funded += choice.points
    assert all(b.balance >= 0 for b in budgets)
    assert funded == sum(balances) - sum(b.balance for b in budgets) == sum(funding.drawn.values())


def test_the_forecast_extrapolates_what_was_paid_out_since_the_oldest_reading():
    week_ago = Point(NOW - timedelta(days=7), balance=10_000, deposited=10_000)
    now = Point(
        NOW, balance=3_000 + 5_000, deposited=15_000
    )  # 5,000 more deposited, 7,000 paid out in 7 days

    assert runs_out_at(week_ago, now) == NOW + timedelta(days=8)


def test_no_forecast_while_nothing_is_paid_out():
    assert runs_out_at(None, Point(NOW, 10, 10)) is None
    assert runs_out_at(Point(NOW - timedelta(days=1), 10, 10), Point(NOW, 10, 10)) is None


@translation.override("en")  # the labels are translated: read them in English whatever ran before
def test_open_data_keeps_each_levels_old_code_beside_its_name():
    assert {level.value: (level.legacy_code, level.label) for level in BudgetLevel} == {
        "funded": ("ok", "funded"),
        "running_low": ("warn", "running low"),
        "throttled": ("throttle", "throttled"),
        "exhausted": ("exhausted", "exhausted"),
    }
