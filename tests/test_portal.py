"""The citizen's portal page: figures, a 30-day chart, equivalents, and why each action counted."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from carbonpoints.portal.selectors import chart_series, daily_reductions, equivalents
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@translation.override("en")
def test_equivalents_show_their_factor_and_source():
    trees, car = equivalents(grams=36_000)
    assert str(trees["value"]) == "2.0" and "18 kg" in str(trees["source"])
    assert str(car["value"]) == "223.6" and "161 g" in str(car["source"])


def test_the_chart_series_switches_to_kg_on_busy_days():
    today = timezone.localdate()
    small = chart_series([(today - timedelta(days=1), 50), (today, 100)], label="CO2e")
    busy = chart_series([(today - timedelta(days=1), 500), (today, 12_345)], label="CO2e")
    assert (small["unit"], small["values"]) == ("g", [50, 100])
    assert (busy["unit"], busy["values"]) == ("kg", [0.5, 12.35])
    assert small["labels"][-1] == today.strftime("%m-%d")


def test_daily_reductions_fill_the_gaps_with_zero(citizen):
    series = daily_reductions(account_id=citizen.carbon_account.pk, days=7)
    assert len(series) == 7
    assert series[-1][0] == timezone.localdate()
    assert all(grams == 0 for _, grams in series)


def test_the_page_opens_for_a_citizen(client, citizen):
    client.force_login(citizen)
    page = client.get("/me/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.content.decode()
    assert "The last 30 days" in text and "Nothing credited in the last 30 days yet." in text


def test_the_page_speaks_chinese_by_default(citizen):
    browser = Client()  # no Accept-Language: the city's language
    browser.force_login(citizen)
    assert "我的碳账户" in browser.get("/me/").content.decode()


def test_staff_see_that_carbon_accounts_belong_to_citizens(client):
    client.force_login(UserFactory(role="merchant_staff"))
    assert client.get("/me/", HTTP_ACCEPT_LANGUAGE="en").status_code == 403


def test_a_streak_counts_low_carbon_days_in_a_row_and_survives_a_day_not_yet_over():
    from datetime import date

    from carbonpoints.portal.selectors import streak_days

    def days(*grams):
        return [(date(2026, 12, n + 1), g) for n, g in enumerate(grams)]

    assert streak_days(days(5, 0, 3, 4, 7)) == 3  # today included
    assert (
        streak_days(days(5, 0, 3, 4, 0)) == 2
    )  # nothing yet today: yesterday's streak still counts
    assert streak_days(days(5, 3, 0, 0)) == 0
    assert streak_days([]) == 0


def test_the_chart_shows_the_account_growing_with_its_reductions():
    from datetime import date

    series = [(date(2026, 12, 1), 500), (date(2026, 12, 2), 0), (date(2026, 12, 3), 1500)]
    chart = chart_series(series, label="CO2e", total_g=12_000, growth_label="growing")
    assert chart["growth"] == [
        10.5,
        10.5,
        12.0,
    ]  # 10 kg before the first day, then day by day to the total
    assert (chart["growth_unit"], chart["growth_label"]) == ("kg", "growing")
    assert "growth" not in chart_series(series, label="CO2e")
