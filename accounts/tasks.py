from celery import shared_task

from .services import accruals_post, citizen_ranks_recompute, citizen_standings_recompute


@shared_task(name="accounts.recompute_ranks")
def recompute_ranks() -> int:
    """Periodic: rank every citizen by grams contributed (the account page reads the result)."""
    return citizen_ranks_recompute()


@shared_task(name="accounts.recompute_standings")
def recompute_standings() -> int:
    """Periodic: every citizen's trailing-12-month reduction, from which levels are read."""
    return citizen_standings_recompute()


@shared_task(name="accounts.post_accruals")
def post_accruals() -> int:
    """Frequent: move the citizens' unposted accruals to their ledger accounts (``accruals_post``)."""
    return accruals_post()
