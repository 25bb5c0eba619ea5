"""bench/ingest_peer.py — the plain DRF intake that bench/ingest measures ours against.

What a team would write first with Django and DRF and nothing more: one model with a row per
event, a ``ModelSerializer`` with ``many=True`` saved by one ``bulk_create`` (the
``ListSerializer`` pattern of DRF's documentation; DRF's default, an INSERT per item, was 5.5×
slower in a short run here and would flatter us), one transaction per request
(``ATOMIC_REQUESTS``), nothing verified (no signature, no citizen, no factor, no cap, no
ledger). It takes the same request bodies as ``POST /api/v1/partner/events``; the partner is
whatever ``X-CP-Key`` says. bench/ingest starts it with gunicorn on its own database
(``PEER_DATABASE_URL``) and port, and posts the same events in the same run.

    python bench/ingest_peer.py reset     # (re)create its one table
    gunicorn --pythonpath bench ingest_peer:application
"""

from __future__ import annotations

import os
import sys

import django
import environ
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-peer-not-secret",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    USE_TZ=True,
    DATABASES={
        "default": {
            **environ.Env.db_url_config(os.environ["PEER_DATABASE_URL"]),
            "ATOMIC_REQUESTS": True,
            "CONN_MAX_AGE": 600,
        }
    },
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
    MIDDLEWARE=[],
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": [],
        "UNAUTHENTICATED_USER": None,
        "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    },
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection, models  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework import serializers, status  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402


class Event(models.Model):
    partner = models.CharField(max_length=64)
    external_id = models.CharField(max_length=128)
    subject = models.CharField(max_length=128)
    action = models.CharField(max_length=64)
    quantity = models.DecimalField(max_digits=14, decimal_places=4)
    unit = models.CharField(max_length=16)
    occurred_at = models.DateTimeField()
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        app_label = "peer"
        db_table = "peer_event"
        constraints = [
            models.UniqueConstraint(fields=["partner", "external_id"], name="peer_event_once")
        ]


class EventListSerializer(serializers.ListSerializer):
    """DRF's documented way to save ``many=True`` at once (its default makes one INSERT per item)."""

    def create(self, validated_data):
        return Event.objects.bulk_create([Event(**item) for item in validated_data])


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        list_serializer_class = EventListSerializer
        fields = [
            "external_id",
            "subject",
            "action",
            "quantity",
            "unit",
            "occurred_at",
            "attributes",
        ]


class EventsView(APIView):
    def post(self, request):
        batch = EventSerializer(data=request.data.get("events", []), many=True)
        batch.is_valid(raise_exception=True)
        batch.save(partner=request.headers.get("X-CP-Key", ""))
        return Response(
            {"received": len(batch.validated_data), "duplicates": 0, "rejected": 0},
            status=status.HTTP_202_ACCEPTED,
        )


urlpatterns = [
    path("api/v1/partner/events", EventsView.as_view()),
    path("healthz", lambda request: HttpResponse("ok")),
]
application = get_wsgi_application()


def reset() -> None:
    with connection.schema_editor() as editor:
        editor.execute(f"DROP TABLE IF EXISTS {Event._meta.db_table}")
        editor.create_model(Event)


if __name__ == "__main__" and sys.argv[1:] == ["reset"]:
    reset()
