"""The inbox over the API: ``GET me/notifications`` (with the unread count) and marking read."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from accounts.api.permissions import IsCitizen
from carbonpoints.api.filters import filter_parameters, query_params
from carbonpoints.api.lean import AppAPIView
from carbonpoints.api.pagination import Pagination

from ..selectors import citizen_notifications, unread_count
from ..services import notifications_mark_read
from . import serializers as s
from .filters import MyNotificationsFilter


class MyNotificationsView(AppAPIView):
    permission_classes = [IsCitizen]

    @extend_schema(
        tags=["citizen"],
        summary="My notifications, newest first, with the unread count",
        parameters=filter_parameters(MyNotificationsFilter),
        responses=s.InboxPageSerializer,
    )
    def get(self, request):
        account = request.user.carbon_account
        params = query_params(MyNotificationsFilter, request)
        rows = citizen_notifications(account_id=account.pk, unread=bool(params["unread"]))
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        response = paginator.get_paginated_response(s.NotificationSerializer(page, many=True).data)
        response.data = {"unread": unread_count(account_id=account.pk), **response.data}
        return response


class MyNotificationsReadView(AppAPIView):
    permission_classes = [IsCitizen]

    @extend_schema(
        tags=["citizen"],
        summary="Mark notifications read (these ids, or all)",
        request=s.MarkReadSerializer,
        responses=s.UnreadSerializer,
    )
    def post(self, request):
        account = request.user.carbon_account
        payload = s.MarkReadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        notifications_mark_read(account=account, ids=payload.validated_data.get("ids"))
        return Response(s.UnreadSerializer({"unread": unread_count(account_id=account.pk)}).data)
