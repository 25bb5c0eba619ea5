"""A real Celery worker process, fed through Redis, runs a task enqueued on commit."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django_celery_results.models import TaskResult

from carbonpoints.celery import app as celery_app
from carbonpoints.ledger.models import LedgerCheckRun
from carbonpoints.ledger.tasks import run_ledger_check

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent


def _test_database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker():
    """``celery -A carbonpoints worker`` on the test database, stopped after the test."""
    redis.Redis.from_url(settings.REDIS_URL).delete("celery")  # nothing stale from earlier runs
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "REDIS_URL": settings.REDIS_URL}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "carbonpoints", "worker", "--pool=solo",
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    celery_app.conf.task_always_eager = False
    try:
        yield process
    finally:
        celery_app.conf.task_always_eager = True
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


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
        pytest.fail("the worker did not run the task:\n" + worker.communicate(timeout=20)[0][-3000:])
    assert LedgerCheckRun.objects.get().ok
    assert _wait_for(  # operators see the task's outcome in the admin
        lambda: TaskResult.objects.filter(task_name="ledger.run_ledger_check", status="SUCCESS").exists()
    )


def test_a_rolled_back_transaction_enqueues_nothing(worker):
    with pytest.raises(RuntimeError), transaction.atomic():
        run_ledger_check.delay_on_commit()
        raise RuntimeError("roll back")
    time.sleep(1)
    assert redis.Redis.from_url(settings.REDIS_URL).llen("celery") == 0
    assert not LedgerCheckRun.objects.exists()
