"""The operator's documented route: ``celery -A carbonpoints call <task>`` from a shell, run for
real against the test database and Redis, with a real worker doing the work."""

import os
import subprocess
import sys
from datetime import date, datetime, time

import pytest
from django.conf import settings
from django.utils import timezone
from django_celery_results.models import TaskResult

from redemption.models import Settlement, Voucher
from tests.conftest import ROOT, _test_database_url
from tests.spend.conftest import client_for
from tests.spend.factories import CashierFactory, ScenarioFactory, give_points
from tests.test_celery_worker import _wait_for

from .factories import CitizenFactory

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

DAY = date(2026, 12, 7)


def _celery_call(*args: str) -> str:
    """Run the command as an operator types it; its output is the task's id."""
    env = {"DATABASE_URL": _test_database_url(), "REDIS_URL": settings.REDIS_URL}
    done = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "carbonpoints", "call", *args],
        cwd=ROOT,
        timeout=60,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def _succeeded(task_id: str) -> bool:
    return TaskResult.objects.filter(task_id=task_id, status="SUCCESS").exists()


def test_settling_a_day_by_hand_makes_its_statement(worker):
    cashier = CashierFactory()
    scenario = ScenarioFactory(merchant=cashier.merchant, points_cost=300)
    citizen = CitizenFactory()
    give_points(citizen, 1_000)
    code = (
        client_for(citizen)
        .post(
            "/api/v1/redemptions",
            {"scenario_id": scenario.pk},
            format="json",
            HTTP_IDEMPOTENCY_KEY="by-hand",
        )
        .json()["voucher"]["code"]
    )
    client_for(cashier.user).post(f"/api/v1/merchant/vouchers/{code}/consume")
    Voucher.objects.filter(code=code).update(
        consumed_at=timezone.make_aware(datetime.combine(DAY, time(12)))
    )

    task_id = _celery_call("redemption.settle_day", f'--args=["{DAY.isoformat()}"]')

    if not _wait_for(lambda: _succeeded(task_id)):
        worker.terminate()
        pytest.fail(
            "the worker did not run the task:\n" + worker.communicate(timeout=20)[0][-3000:]
        )
    statement = Settlement.objects.get(merchant=cashier.merchant)
    assert (statement.day, statement.vouchers_consumed, statement.points_total) == (DAY, 1, 300)


def test_funding_waiting_credits_by_hand_runs(worker):
    task_id = _celery_call("earn.fund_waiting")

    assert _wait_for(lambda: _succeeded(task_id)), "the worker did not run earn.fund_waiting"
