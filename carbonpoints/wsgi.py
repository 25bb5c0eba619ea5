import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carbonpoints.settings")
application = get_wsgi_application()

# Everything imported at start-up moved out of the garbage collector's sight, as the Celery worker
# does (carbonpoints/celery.py): a partner's batch of 1,000 events makes tens of thousands of
# short-lived objects, and each full collection walked the whole of Django and the app again
# (20 of 70 µs of Python per event, docs/performance/ingest.md).
gc.freeze()
