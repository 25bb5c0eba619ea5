"""Work for a worker, asked for by the task's name once the transaction commits.

Services enqueue through here and never import a tasks module; tasks import the services they
run. So the import graph has no ``services ↔ tasks`` cycle, and a service can enqueue work of
another app (budgets → earn) without knowing its tasks. Without a broker (no ``REDIS_URL``, and
in the tests) tasks run in-process after the commit, as ``delay_on_commit`` runs them.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction

from .celery import app


def task_enqueue_on_commit(name: str, *args: object) -> None:
    """Send the task ``name`` with ``args`` after the current transaction commits (at once
    outside one); nothing is sent when it rolls back."""
    transaction.on_commit(partial(_send, name, args))


def _send(name: str, args: tuple[object, ...]) -> None:
    if not app.conf.task_always_eager:
        app.send_task(name, args=args)
        return
    if name not in app.tasks:  # in-process: the task's module may not be imported yet
        app.autodiscover_tasks(force=True)
    app.tasks[name].apply_async(args=args)
