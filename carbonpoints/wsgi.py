import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carbonpoints.settings")
application = get_wsgi_application()

# Everything imported at start-up moved out of the garbage collector's sight, as the Celery worker
# does (carbonpoints/celery.py): a partner's batch of 1,000 events makes tens of thousands of
# short-lived objects, and each full collection walked the whole of Django and the app again
# (20 of 70 µs of Python per event, docs/performance/ingest.md). The URLs are loaded first, so the
# views and everything they import are frozen with the rest.
get_resolver().url_patterns  # noqa: B018 - imports every view
gc.freeze()
