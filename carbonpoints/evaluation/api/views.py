"""``GET me/badges``: every badge, earned or not (levels and rank stay in ``me/account``)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from accounts.api.permissions import IsCitizen
from carbonpoints.api.lean import AppAPIView

from ..selectors import citizen_badges
from .serializers import BadgeSerializer


class MyBadgesView(AppAPIView):
    permission_classes = [IsCitizen]

    @extend_schema(
        tags=["citizen"], summary="My badges (earned or not)", responses=BadgeSerializer(many=True)
    )
    def get(self, request):
        return Response(
            BadgeSerializer(
                citizen_badges(account_id=request.user.carbon_account.pk), many=True
            ).data
        )
