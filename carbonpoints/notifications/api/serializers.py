"""Shapes of the inbox's API."""

from __future__ import annotations

from rest_framework import serializers

from ..models import Notification
from ..selectors import notification_text


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(
        help_text="action_credited, action_capped, action_rejected, action_flagged, "
        "held_released, voucher_expiring, level_reached, badge_reached, export_ready"
    )
    count = serializers.IntegerField(
        help_text="How many things it tells of (e.g. actions credited in this run)."
    )
    grams = serializers.IntegerField(allow_null=True)
    points = serializers.IntegerField(allow_null=True)
    data = serializers.DictField()  # type: ignore[assignment]  # a field, popped from the class by DRF
    text = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, n: Notification) -> dict:
        return super().to_representation(
            {
                "id": n.pk,
                "kind": n.kind,
                "count": n.count,
                "grams": n.grams,
                "points": n.points,
                "data": n.data,
                "text": notification_text(n),
                "created_at": n.created_at,
                "read_at": n.read_at,
            }
        )


class InboxPageSerializer(serializers.Serializer):
    unread = serializers.IntegerField()
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = NotificationSerializer(many=True)


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        allow_null=True,
        help_text="Omitted: every notification.",
    )


class UnreadSerializer(serializers.Serializer):
    unread = serializers.IntegerField()
