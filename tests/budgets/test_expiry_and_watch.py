"""Unused points expire back to the budget; the hourly watch warns operators before a budget runs
out; the dashboard and the open data show each budget."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from carbonpoints.budgets import ledger_accounts as budget_ledger
from carbonpoints.budgets.models import Alert, Reading
from carbonpoints.budgets.services import budgets_watch, points_expire
from carbonpoints.ledger.models import LedgerAccount, LedgerTransaction
from carbonpoints.ledger.selectors import ledger_check
from tests.earn.factories import event
from tests.factories import accruals_posted, funded_budget

pytestmark = pytest.mark.django_db


def left(budget) -> int:
    return LedgerAccount.objects.get(kind=budget_ledger.BUDGET.kind, owner_id=budget.pk).balance


def points(client) -> dict:
    return client.get("/api/v1/me/account").json()["points"]


def days_later(days: int):
    return timezone.now() + timedelta(days=days)


def test_points_unused_for_the_set_months_expire_back_to_the_budget_in_force(
    settings, metro, linked_citizen_client
):
    settings.POINTS_EXPIRE_AFTER_MONTHS = 12
    metro.send(event(external_id="old", quantity="12.5"))  # 58 points, from this year's budget
    accruals_posted()  # within the minute, months before any expiry

    assert points_expire(now=days_later(300)) == 0, "moved less than twelve months ago"
    assert (
        points_expire(now=days_later(400)) == 1
    )  # this year's budget has ended: they wait in the expiry account
    assert points(linked_citizen_client)["available"] == 0
    assert LedgerAccount.objects.get(kind="points_expiry").balance == 58
    inbox = linked_citizen_client.get("/api/v1/me/notifications", HTTP_ACCEPT_LANGUAGE="en").json()[
        "results"
    ]
    assert "58 points expired: they were not used for 12 months." in [n["text"] for n in inbox]

    next_year = funded_budget(
        points=1000, sponsor__name="City", starts_at=days_later(360), ends_at=days_later(800)
    )
    assert points_expire(now=days_later(401)) == 0
    assert (
        left(next_year) == 1000 + 58
        and LedgerAccount.objects.get(kind="points_expiry").balance == 0
    )

    expired = LedgerTransaction.objects.get(kind="points_expire")
    returned = LedgerTransaction.objects.get(kind="budget_return")
    assert {p.account.kind: p.amount for p in expired.postings.all()} == {
        "citizen_points": -58,
        "points_expiry": 58,
    }
    assert {p.account.kind: p.amount for p in returned.postings.all()} == {
        "points_expiry": -58,
        "budget_points": 58,
    }
    ledger = linked_citizen_client.get("/api/v1/me/ledger").json()["results"]
    assert any(entry["amount"] == -58 for entry in ledger)
    assert ledger_check().ok


def test_citizens_are_warned_once_before_their_points_expire(
    settings, metro, linked_citizen_client
):
    from carbonpoints.budgets.services import points_expiry_warn

    settings.POINTS_EXPIRE_AFTER_MONTHS, settings.POINTS_EXPIRY_NOTICE_DAYS = 12, 30
    metro.send(event(external_id="old", quantity="12.5"))  # 58 points
    accruals_posted()  # within the minute, months before any notice

    def inbox() -> list[str]:
        answer = linked_citizen_client.get(
            "/api/v1/me/notifications", HTTP_ACCEPT_LANGUAGE="en"
        ).json()
        return [n["text"] for n in answer["results"] if "expire" in n["text"]]

    assert points_expiry_warn(now=days_later(300)) == 0, "not yet within the notice"
    assert points_expiry_warn(now=days_later(350)) == 1
    assert points_expiry_warn(now=days_later(351)) == 0, "once per stretch without movement"
    from dateutil.relativedelta import relativedelta

    from carbonpoints.ledger.models import Posting

    moved = Posting.objects.filter(account__kind="citizen_points").latest("id").created_at
    expires = timezone.localtime(moved + relativedelta(months=12))
    assert inbox() == [
        f"58 points expire on {expires:%Y-%m-%d} unless you use them or earn more before."
    ]


def test_expiry_is_off_at_zero_months(settings, metro, linked_citizen_client):
    settings.POINTS_EXPIRE_AFTER_MONTHS = 0
    metro.send(event(external_id="old", quantity="12.5"))

    assert points_expire(now=days_later(4000)) == 0
    assert points(linked_citizen_client)["available"] == 58


@translation.override("en")
def test_the_watch_warns_once_per_level_and_emails_the_managers(settings, operator):
    settings.MANAGERS = [("Budget desk", "budgets@city.example.cn")]
    budget = funded_budget(
        points=1000, sponsor__name="City", warn_below_percent=50, throttle_below_percent=20
    )
    assert budgets_watch() == [] and mail.outbox == []

    _draw(budget, 600)  # 40 % left: running low
    [alert] = budgets_watch()
    assert (alert.level, alert.balance, alert.deposited) == ("running_low", 400, 1000)
    assert (
        "running low" in mail.outbox[0].subject and "400 of 1000 points left" in mail.outbox[0].body
    )
    assert budgets_watch() == [], "raised once per level"

    _draw(budget, 250)  # 15 %: throttled
    assert [a.level for a in budgets_watch()] == ["throttled"]
    assert len(mail.outbox) == 2
    assert Reading.objects.filter(budget=budget).count() == 1 + 4  # the deposit's, then one an hour


def _draw(budget, points: int) -> None:
    """A credit's draw on the budget, as crediting posts it (to a citizen's points)."""
    from carbonpoints.ledger.services import Leg, ledger_accounts_get_or_create, transaction_post
    from tests.factories import CitizenFactory

    owner = CitizenFactory().carbon_account.pk
    refs = ledger_accounts_get_or_create(
        keys=[budget_ledger.BUDGET.of(budget.pk), ("citizen_points", owner, "pt")]
    )
    transaction_post(
        kind="earn_credit",
        idempotency_key=f"draw:{budget.pk}:{owner}",
        legs=[
            Leg(refs[budget_ledger.BUDGET.of(budget.pk)], -points),
            Leg(refs[("citizen_points", owner, "pt")], points),
        ],
    )


def test_the_forecast_shows_when_the_budget_runs_out_at_the_trailing_rate(operator_client):
    budget = funded_budget(points=1000, sponsor__name="City")
    Reading.objects.filter(budget=budget).update(taken_at=timezone.now() - timedelta(days=4))
    _draw(budget, 400)  # 400 in 4 days: the 600 left last 6 more days

    page = operator_client.get(reverse("operator-dashboard")).content.decode()
    row = next(
        b
        for b in operator_client.get(reverse("open-data-json")).json()["sponsor_budgets"]
        if b["sponsor"] == "City"
    )

    runs_out = timezone.datetime.fromisoformat(row["runs_out_at"])
    assert abs(runs_out - (timezone.now() + timedelta(days=6))) < timedelta(hours=1)
    assert (row["points_deposited"], row["points_issued"], row["points_left"], row["level"]) == (
        1000,
        400,
        600,
        "ok",
    )
    assert (
        row["level_name"] == "funded"
        and '<tr class="budget-funded">' in page
        and "<strong>funded</strong>" in page
    )
    assert row["yuan_per_point"] == "0.010000"
    assert (
        f"{runs_out:%Y-%m-%d}" in page
        and 'id="chart-budgets"' in page
        and "chart-budgets-data" in page
    )
    changelist = operator_client.get(reverse("admin:budgets_budget_changelist")).content.decode()
    assert "1,000" in changelist and "600" in changelist and f"{runs_out:%Y-%m-%d}" in changelist


def test_the_open_data_csv_lists_each_budget(client):
    funded_budget(points=5000, sponsor__name="City", name="2026")

    rows = list(csv.reader(io.StringIO(client.get(reverse("open-data-csv")).content.decode())))

    assert ["budgets", "points_deposited", "City/2026", "5000"] in rows
    assert ["budgets", "points_left", "City/2026", "5000"] in rows


@pytest.mark.unfunded
def test_merchants_are_settled_at_the_city_sponsors_published_rate():
    from carbonpoints.budgets.selectors import settlement_rate
    from carbonpoints.budgets.services import budget_deposit

    city = funded_budget(
        points=1000, yuan_fen=2000, sponsor__name="City"
    )  # 20 CNY for 1,000 points
    budget_deposit(
        budget=city, points=3000, yuan_fen=4000, operator=None
    )  # 60 CNY for 4,000 in all
    funded_budget(
        points=1000, yuan_fen=9000, sponsor__name="Bikes", actions=["bike_ride"]
    )  # one scene's: not the rate

    rate, source = settlement_rate()
    assert (str(rate), source) == ("0.015000", "City")


@pytest.mark.unfunded
def test_without_a_city_budget_merchants_are_settled_at_the_platforms_rate(settings):
    from decimal import Decimal

    from carbonpoints.budgets.selectors import settlement_rate

    settings.REDEMPTION_SETTLEMENT_YUAN_PER_POINT = Decimal("0.0125")
    assert settlement_rate() == (Decimal("0.0125"), "platform")
    funded_budget(points=1000, yuan_fen=2000, sponsor__name="City")
    assert settlement_rate() == (Decimal("0.020000"), "City")


@pytest.mark.unfunded
def test_an_alert_row_is_shown_to_operators(operator_client):
    budget = funded_budget(points=100, sponsor__name="City")
    _draw(budget, 100)
    budgets_watch()

    page = operator_client.get(reverse("admin:budgets_alert_changelist")).content.decode()
    assert Alert.objects.get().level == "exhausted" and "exhausted" in page


def test_the_budgets_figures_take_one_query_however_many_budgets(django_assert_num_queries):
    from carbonpoints.budgets.selectors import budget_rows

    for n in range(5):
        budget = funded_budget(points=1000 + n, sponsor__name=f"Sponsor {n}")
        _draw(budget, n + 1)
    with django_assert_num_queries(1):
        rows = budget_rows()
    assert sorted(row.issued for row in rows if row.sponsor.startswith("Sponsor")) == [
        1,
        2,
        3,
        4,
        5,
    ]
