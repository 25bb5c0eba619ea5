"""``GET me/badges``: every badge, earned or not (levels and rank stay in ``me/account``)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import citizen_account

from ..selectors import citizen_badges


class BadgeSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(help_text="In the request's language.")
    rule = serializers.CharField(help_text="streak (days in a row), variety (kinds in a month) or milestone (grams)")
    rule_text = serializers.CharField()
    threshold = serializers.IntegerField()
    earned = serializers.BooleanField()
    earned_at = serializers.DateTimeField(allow_null=True)


class MyBadgesView(APIView):
    @extend_schema(tags=["citizen"], summary="My badges (earned or not)", responses=BadgeSerializer(many=True))
    def get(self, request):
        account = citizen_account(request.user)
        return Response(BadgeSerializer(citizen_badges(account_id=account.pk), many=True).data)
