from celery import shared_task

from .services import methodologies_take_force


@shared_task(name="methodologies.take_force")
def take_force() -> int:
    """Record approved versions whose start has come as in force (idempotent)."""
    return methodologies_take_force()
