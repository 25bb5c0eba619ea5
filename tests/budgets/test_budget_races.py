"""A budget is drawn by many partners' requests at once: never overdrawn, nothing lost."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from carbonpoints.budgets import ledger_accounts as budget_ledger
from carbonpoints.earn import tasks
from carbonpoints.earn.models import ActionRecord
from carbonpoints.ledger.models import LedgerAccount
from carbonpoints.ledger.selectors import ledger_check
from tests.concurrency import run_at_once
from tests.earn.factories import event
from tests.factories import CitizenFactory, funded_budget

RIDERS = 6


@pytest.mark.unfunded
@pytest.mark.django_db(transaction=True)
def test_concurrent_credits_never_overdraw_a_budget_and_the_rest_wait_for_funding(metro, link):
    budget = funded_budget(
        points=200, sponsor__name="City", warn_below_percent=0, throttle_below_percent=0
    )
    for n in range(RIDERS):
        client = APIClient()
        client.force_authenticate(CitizenFactory())
        assert link(client, metro.partner, f"rider-{n}").status_code == 201

    # each request credits one rider 58 points; the budget holds enough for three of them
    answers = run_at_once(
        RIDERS,
        lambda n: (
            metro.send(
                event(external_id=f"ride-{n}", subject=f"rider-{n}", quantity="12.5")
            ).status_code
        ),
    )

    assert answers == [202] * RIDERS
    credited = ActionRecord.objects.filter(state="credited")
    assert credited.count() == RIDERS
    funded = credited.filter(budget=budget)
    assert (
        funded.count() == 3
        and credited.filter(budget__isnull=True, points_available_at__isnull=True).count() == 3
    )
    left = LedgerAccount.objects.get(kind=budget_ledger.BUDGET.kind, owner_id=budget.pk).balance
    assert left == 200 - 3 * 58
    assert ledger_check().ok

    from carbonpoints.budgets.services import budget_deposit

    budget_deposit(budget=budget, points=1000, yuan_fen=1000, operator=None)
    tasks.fund_waiting()
    assert credited.filter(budget=budget).count() == RIDERS
    assert (
        LedgerAccount.objects.get(kind=budget_ledger.BUDGET.kind, owner_id=budget.pk).balance
        == 1200 - 6 * 58
    )
    assert ledger_check().ok
