from celery import shared_task

from .services import badges_award


@shared_task(name="evaluation.award_badges")
def award_badges() -> int:
    """Periodic: badges to the citizens who now meet their rules."""
    return badges_award()
