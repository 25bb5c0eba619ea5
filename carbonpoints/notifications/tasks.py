"""The collector, run by celery beat every minute."""

from celery import shared_task

from .services import notifications_collect


@shared_task(name="notifications.collect")
def collect() -> dict[str, int]:
    return notifications_collect()
