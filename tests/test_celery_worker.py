"""A real Celery worker process, fed through Redis, runs a task enqueued on commit."""

import time

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django_celery_results.models import TaskResult

from carbonpoints.ledger.models import LedgerCheckRun
from carbonpoints.ledger.tasks import run_ledger_check

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_task_enqueued_on_commit_runs_in_a_real_worker(worker):
    queue = redis.Redis.from_url(settings.REDIS_URL)
    with transaction.atomic():
        run_ledger_check.delay_on_commit()
        assert queue.llen("celery") == 0, "nothing may be sent before the commit"

    ran = _wait_for(lambda: LedgerCheckRun.objects.filter(finished_at__isnull=False).exists())

    if not ran:
        worker.terminate()
        pytest.fail(
            "the worker did not run the task:\n" + worker.communicate(timeout=20)[0][-3000:]
        )
    assert LedgerCheckRun.objects.get().ok
    assert _wait_for(  # operators see the task's outcome in the admin
        lambda: TaskResult.objects.filter(
            task_name="ledger.run_ledger_check", status="SUCCESS"
        ).exists()
    )


def test_a_rolled_back_transaction_enqueues_nothing(worker):
    with pytest.raises(RuntimeError), transaction.atomic():
        run_ledger_check.delay_on_commit()
        raise RuntimeError("roll back")
    time.sleep(1)
    assert redis.Redis.from_url(settings.REDIS_URL).llen("celery") == 0
    assert not LedgerCheckRun.objects.exists()
