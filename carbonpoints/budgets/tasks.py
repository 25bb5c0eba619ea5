"""Periodic work of budgets (celery beat): the hourly watch and the expiry of unused points."""

from celery import shared_task

from . import services


@shared_task(name="budgets.watch")
def watch() -> int:
    return len(services.budgets_watch())


@shared_task(name="budgets.expire_points")
def expire_points() -> int:
    """Nightly: warn the citizens whose points expire soon, then expire what is due."""
    services.points_expiry_warn()
    return services.points_expire()
