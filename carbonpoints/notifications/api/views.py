"""The inbox over the API: ``GET me/notifications`` (with the unread count) and marking read."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import citizen_account
from carbonpoints.api.pagination import Pagination

from ..selectors import citizen_notifications, notification_text, unread_count
from ..services import notifications_mark_read


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="action_credited, action_capped, action_rejected, action_flagged, "
                                           "held_released, voucher_expiring, level_reached, badge_reached, export_ready")
    count = serializers.IntegerField(help_text="How many things it tells of (e.g. actions credited in this run).")
    grams = serializers.IntegerField(allow_null=True)
    points = serializers.IntegerField(allow_null=True)
    data = serializers.DictField()  # type: ignore[assignment]  # a field, popped from the class by DRF
    text = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class InboxPageSerializer(serializers.Serializer):
    unread = serializers.IntegerField()
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = NotificationSerializer(many=True)


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), required=False, allow_null=True,
                                help_text="Omitted: every notification.")


class UnreadSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


def _row(n) -> dict:
    return {"id": n.pk, "kind": n.kind, "count": n.count, "grams": n.grams, "points": n.points, "data": n.data,
            "text": notification_text(n), "created_at": n.created_at, "read_at": n.read_at}


class MyNotificationsView(APIView):
    @extend_schema(tags=["citizen"], summary="My notifications, newest first, with the unread count",
                   parameters=[OpenApiParameter("unread", bool, description="only unread ones")],
                   responses=InboxPageSerializer)
    def get(self, request):
        account = citizen_account(request.user)
        rows = citizen_notifications(account_id=account.pk, unread=request.query_params.get("unread") == "true")
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        response = paginator.get_paginated_response(NotificationSerializer([_row(n) for n in page], many=True).data)
        response.data = {"unread": unread_count(account_id=account.pk), **response.data}
        return response


class MyNotificationsReadView(APIView):
    @extend_schema(tags=["citizen"], summary="Mark notifications read (these ids, or all)",
                   request=MarkReadSerializer, responses=UnreadSerializer)
    def post(self, request):
        account = citizen_account(request.user)
        payload = MarkReadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        notifications_mark_read(account=account, ids=payload.validated_data.get("ids"))
        return Response({"unread": unread_count(account_id=account.pk)})
