"""The Celery app: ``celery -A carbonpoints worker`` and ``celery -A carbonpoints beat``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carbonpoints.settings")

app = Celery("carbonpoints")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
