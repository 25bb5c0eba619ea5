"""CarbonPoints: project configuration and the core domain (feeds, methodologies, ledger...)."""

from .celery import app as celery_app

__all__ = ("celery_app",)
