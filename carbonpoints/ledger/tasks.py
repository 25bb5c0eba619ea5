from celery import shared_task

from .services import ledger_check_record


@shared_task(name="ledger.run_ledger_check")  # type: ignore[untyped-decorator]  # celery is untyped
def run_ledger_check() -> int:
    """Periodic re-derivation of every balance; the outcome is kept for the operators."""
    return ledger_check_record().pk
