"""``GET regions``: the province and its cities, public (partners, apps and pickers read it)."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ..selectors import regions_all
from .serializers import RegionSerializer


class RegionsView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        responses=RegionSerializer(many=True), tags=["public"], summary="Regions (GB/T 2260)"
    )
    def get(self, request):
        return Response(RegionSerializer(regions_all(), many=True).data)
