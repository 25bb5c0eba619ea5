"""Services ask for a task by its name after the commit; they never import a tasks module."""

import ast
from pathlib import Path

import pytest
from celery.exceptions import NotRegistered
from django.db import transaction

from carbonpoints.enqueue import task_enqueue_on_commit
from carbonpoints.ledger.models import LedgerCheckRun
from tests.conftest import ROOT
from tests.test_celery_worker import _wait_for

SERVICES = sorted(
    path
    for app in ("carbonpoints", "accounts", "redemption")
    for pattern in ("**/services.py", "**/services/*.py")
    for path in (ROOT / app).glob(pattern)
)


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
            names.update(f"{node.module or ''}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("path", SERVICES, ids=lambda path: str(path.relative_to(ROOT)))
def test_services_import_no_tasks_module(path):
    """Tasks import services: a service importing tasks back would make the cycle again."""
    assert not [name for name in _imported_modules(path) if name.split(".")[-1] == "tasks"]


@pytest.mark.django_db
def test_in_process_the_task_runs_after_the_commit_and_not_at_all_on_a_rollback(
    django_capture_on_commit_callbacks,
):
    with pytest.raises(RuntimeError), transaction.atomic():
        task_enqueue_on_commit("ledger.run_ledger_check")
        raise RuntimeError("roll back")
    assert not LedgerCheckRun.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        task_enqueue_on_commit("ledger.run_ledger_check")
        assert not LedgerCheckRun.objects.exists(), "nothing runs before the commit"

    assert LedgerCheckRun.objects.get().ok


@pytest.mark.django_db
def test_an_unknown_task_name_is_refused_in_process(django_capture_on_commit_callbacks):
    with pytest.raises(NotRegistered), django_capture_on_commit_callbacks(execute=True):
        task_enqueue_on_commit("ledger.no_such_task")


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_a_broker_a_real_worker_runs_the_named_task(worker):
    with transaction.atomic():
        task_enqueue_on_commit("ledger.run_ledger_check")

    assert _wait_for(lambda: LedgerCheckRun.objects.filter(finished_at__isnull=False).exists())
