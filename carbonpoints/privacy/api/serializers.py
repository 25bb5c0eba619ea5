from django.urls import reverse
from rest_framework import serializers

from ..models import DataExport


class ExportStatusSerializer(serializers.Serializer):
    id = serializers.CharField()
    state = serializers.CharField(help_text="pending, building, ready or failed")
    progress_percent = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    status_url = serializers.CharField(help_text="Poll this until state is ready.")
    download_url = serializers.CharField(
        allow_null=True, help_text="The JSON document; add ?as=zip for CSVs."
    )

    def to_representation(self, export: DataExport) -> dict:
        ready = export.state == DataExport.State.READY
        return super().to_representation(
            {
                "id": str(export.pk),
                "state": export.state,
                "progress_percent": export.progress_percent,
                "created_at": export.created_at,
                "finished_at": export.finished_at,
                "status_url": reverse("me-export-status", args=[export.pk]),
                "download_url": reverse("me-export-download", args=[export.pk]) if ready else None,
            }
        )


class DeleteRequestSerializer(serializers.Serializer):
    password = serializers.CharField(
        help_text="The account's password, asked again.", trim_whitespace=False
    )
