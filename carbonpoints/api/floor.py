"""The framework floor of ``bench/api``: a DRF view answering constant JSON, with no
authentication, no rate limit and no database, served only when ``BENCH_FLOOR`` is on (the
benchmark's server sets it; production never does).

It runs the same middleware, URL resolving, content negotiation and renderer as every API view,
so an endpoint's share of its throughput is what our own code costs on top of the framework."""

from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

FLOOR_PATH = "api/v1/bench/floor"

_ANSWER = {"ok": True, "floor": "constant JSON, no authentication, no database"}


class FloorView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    schema = None  # never in the OpenAPI schema

    def get(self, request):
        return Response(_ANSWER)
