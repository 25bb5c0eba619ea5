"""The Celery app: ``celery -A carbonpoints worker`` and ``celery -A carbonpoints beat``."""

import gc
import os

from celery import Celery
from celery.signals import worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carbonpoints.settings")


class _DjangoCelery(Celery):
    def _get_backend(self):
        """The ``django-db`` result backend is made of Django models, so Django's apps must be
        loaded before it is: a worker loads them at start, a client such as
        ``celery -A carbonpoints call redemption.settle_day`` did not, and failed with
        ``AppRegistryNotReady``. In a process where Django is set up (or setting up), nothing
        more is done."""
        from django.apps import apps

        if not apps.ready and not apps.loading:
            import django

            django.setup()
        return super()._get_backend()


app = _DjangoCelery("carbonpoints")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@worker_process_init.connect
def _freeze_startup_objects(**_) -> None:
    """Move everything imported at start-up out of the garbage collector's sight: a pipeline chunk
    makes tens of thousands of short-lived objects, and each full collection would walk the
    whole of Django and the app again (https://docs.python.org/3/library/gc.html#gc.freeze)."""
    gc.freeze()
