"""Demo inboxes: one collector run over the demo city's actions, as celery beat would do."""

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from .services import RELEASE_GRACE, notifications_collect


def seed(*, password: str, citizens: int, log: Callable[[str], None]) -> dict[str, str]:
    counts = notifications_collect(now=timezone.now() + RELEASE_GRACE + timedelta(seconds=1))
    log(f"{sum(counts.values())} notifications")
    return {}
