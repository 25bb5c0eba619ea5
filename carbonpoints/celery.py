"""The Celery app: ``celery -A carbonpoints worker`` and ``celery -A carbonpoints beat``."""

import gc
import os

from celery import Celery
from celery.signals import worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carbonpoints.settings")

app = Celery("carbonpoints")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@worker_process_init.connect
def _freeze_startup_objects(**_) -> None:
    """Move everything imported at start-up out of the garbage collector's sight: a pipeline chunk
    makes tens of thousands of short-lived objects, and each full collection would walk the
    whole of Django and the app again (https://docs.python.org/3/library/gc.html#gc.freeze)."""
    gc.freeze()
