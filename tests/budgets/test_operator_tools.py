"""What operators and citizens see of budgets besides the API: the command, the admin's edits,
and the citizen's portal."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from carbonpoints.audit.models import AuditEntry
from carbonpoints.budgets.models import Budget
from carbonpoints.budgets.selectors import budget_rows
from tests.earn.factories import event
from tests.factories import BudgetFactory

pytestmark = pytest.mark.django_db


@pytest.mark.unfunded
def test_create_budget_opens_a_budget_in_force_with_its_first_deposit():
    out = StringIO()
    call_command(
        "create_budget",
        "--sponsor",
        "Hello Bike",
        "--name",
        "season",
        "--points",
        "5000",
        "--yuan",
        "250.00",
        "--actions",
        "bike_ride",
        "--days",
        "90",
        "--json",
        stdout=out,
    )

    budget = Budget.objects.get(pk=json.loads(out.getvalue())["budget_id"])
    [row] = budget_rows(current_only=True)
    assert (row.sponsor, row.scenes, row.deposited, row.balance, str(row.yuan_per_point)) == (
        "Hello Bike",
        ["bike_ride"],
        5000,
        5000,
        "0.050000",
    )
    assert (budget.ends_at - budget.starts_at).days == 90
    with pytest.raises(CommandError, match="10¹²"):
        call_command(
            "create_budget", "--sponsor", "X", "--name", "y", "--points", "0", "--yuan", "1"
        )


def test_an_operator_edits_a_budgets_published_throttle_and_it_is_audited(
    operator_client, operator
):
    budget = BudgetFactory(sponsor__name="City")
    page = operator_client.get(
        reverse("admin:budgets_budget_change", args=[budget.pk])
    ).content.decode()
    assert "Record a deposit" in page and "From the ledger" in page

    form = {
        "sponsor": budget.sponsor_id,
        "name": budget.name,
        "starts_at_0": "2026-01-01",
        "starts_at_1": "00:00:00",
        "ends_at_0": "2027-01-01",
        "ends_at_1": "00:00:00",
        "actions": "[]",
        "warn_below_percent": 30,
        "throttle_below_percent": 15,
        "throttle": "pending",
        "throttle_factor": "0.5",
        "deposits-TOTAL_FORMS": 0,
        "deposits-INITIAL_FORMS": 0,
    }
    saved = operator_client.post(reverse("admin:budgets_budget_change", args=[budget.pk]), form)

    assert saved.status_code == 302, saved.content.decode()[:2000]
    budget.refresh_from_db()
    assert (budget.throttle, budget.throttle_below_percent) == ("pending", 15)
    assert AuditEntry.objects.filter(
        object_type="budgets.budget", object_id=str(budget.pk), actor_id=operator.pk
    ).exists()
    refused = operator_client.post(
        reverse("admin:budgets_budget_change", args=[budget.pk]),
        {**form, "warn_below_percent": 10, "throttle_below_percent": 15},
    )
    assert (
        refused.status_code == 200 and b"errornote" in refused.content
    )  # throttling starts below the warning


def test_the_citizen_portal_names_the_sponsor_of_each_credit(metro, linked_citizen_client, citizen):
    metro.send(event(external_id="ride", quantity="12.5"))
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(citizen)

    assert "funded by Test City" in browser.get("/me/actions/").content.decode()


@pytest.mark.unfunded
def test_seed_demo_funds_every_point_through_its_two_sponsors(capsys, operator_client):
    from django.core.management import call_command

    from carbonpoints.budgets.demo import BIKES, CITY
    from carbonpoints.earn.models import ActionRecord

    call_command("seed_demo", "--citizens", "20", "--json")
    capsys.readouterr()

    everywhere = ActionRecord.objects.filter(state="credited", points__gt=0)
    assert everywhere.exists() and not everywhere.filter(budget__isnull=True).exists(), (
        "no point is owed"
    )
    assert set(everywhere.exclude(region="420100").values_list("budget__region", flat=True)) == {
        "420500",
        "420600",
    }
    credited = everywhere.filter(
        region="420100"
    )  # Wuhan, the demo city of before: its two sponsors
    assert set(
        credited.filter(action="bike_ride").values_list("budget__sponsor__name", flat=True)
    ) <= {BIKES, CITY}
    assert credited.filter(action="bike_ride", budget__sponsor__name=BIKES).exists()
    assert set(
        credited.exclude(action="bike_ride").values_list("budget__sponsor__name", flat=True)
    ) == {CITY}
    rows = {row.sponsor: row for row in budget_rows()}
    assert rows[CITY].deposited == 20_000_000 and rows[CITY].runs_out_at is not None
    assert rows[BIKES].issued > 0
    page = operator_client.get(
        reverse("operator-dashboard"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert (
        "Wuhan Ecology and Environment Bureau" in page and "Hello Bike (sponsor)" in page
    )  # names in English
    # the city's 20,000,000 points outlast its year at the demo's pace: said so, not a date past the budget's end
    assert "lasts to its end" in page
    call_command("ledger_check")
