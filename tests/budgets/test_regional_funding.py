"""Budgets fund the actions of their region; a province's budgets fund what no city budget covers."""

from __future__ import annotations

from dataclasses import replace

from carbonpoints.budgets.rules import WAITS_NO_FUNDS, Funding

from .test_rules import budget, grams

HUBEI, WUHAN, YICHANG, XIANGYANG = "420000", "420100", "420500", "420600"


def test_a_city_budget_funds_its_city_first_and_the_province_what_is_left():
    wuhan = replace(budget(1, balance=50, deposited=50, ends_in_days=10), region=WUHAN)
    hubei = replace(budget(2, ends_in_days=5), region=HUBEI)
    funding = Funding([hubei, wuhan])

    assert funding.choose("metro_ride", grams(300), region=WUHAN).budget is wuhan
    assert (
        funding.choose("metro_ride", grams(300), region=WUHAN).budget is hubei
    )  # Wuhan's is down to 20
    assert funding.choose("metro_ride", grams(300), region=XIANGYANG).budget is hubei


def test_a_city_budget_never_funds_another_city():
    yichang = replace(budget(1), region=YICHANG)

    choice = Funding([yichang]).choose("metro_ride", grams(300), region=WUHAN)

    assert (choice.budget, choice.waits) == (None, WAITS_NO_FUNDS)


def test_a_city_budget_for_named_scenes_comes_before_its_general_one_and_both_before_the_province():
    hubei_bikes = replace(budget(1, actions=["bike_ride"]), region=HUBEI)
    yichang = replace(budget(2), region=YICHANG)
    yichang_bikes = replace(budget(3, actions=["bike_ride"]), region=YICHANG)
    funding = Funding([hubei_bikes, yichang, yichang_bikes])

    assert funding.choose("bike_ride", grams(100), region=YICHANG).budget is yichang_bikes
    assert funding.choose("bike_ride", grams(100), region=XIANGYANG).budget is hubei_bikes
    assert funding.choose("metro_ride", grams(100), region=YICHANG).budget is yichang


def test_no_region_named_is_the_default_region_as_before():
    city = budget(1)  # a budget of before regions: the default region's

    assert Funding([city]).choose("metro_ride", grams(100)).budget is city
    assert Funding([city]).choose("metro_ride", grams(100), region=WUHAN).budget is city
    assert Funding([city]).choose("metro_ride", grams(100), region=YICHANG).budget is None
