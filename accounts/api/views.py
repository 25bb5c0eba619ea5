from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import ACCOUNT_NAMES, citizen_account_summary, citizen_postings
from carbonpoints.api.errors import ApiError
from carbonpoints.api.pagination import Pagination

from .serializers import AccountSerializer, LedgerEntrySerializer


def _not_a_citizen() -> ApiError:
    return ApiError(403, "not_a_citizen", "Only citizens have a carbon account.")


def citizen_account(user):
    """The signed-in citizen's carbon account, or a 403 with a code for other roles."""
    account = getattr(user, "carbon_account", None)
    if account is None:
        raise _not_a_citizen()
    return account


_ACCOUNT = AccountSerializer()
"""One serializer for every account page: a DRF serializer deep-copies its declared fields each
time one is made (~0.6 ms, a sixth of the request's CPU); ``to_representation`` keeps no state,
so the same instance renders every answer, identically."""


class MyAccountView(APIView):
    @extend_schema(responses=AccountSerializer, tags=["citizen"], summary="My carbon account")
    def get(self, request):
        summary = citizen_account_summary(user_id=request.user.pk)
        if summary is None:
            raise _not_a_citizen()
        return Response(_ACCOUNT.to_representation(summary))


def _time(request, name: str):
    value = request.query_params.get(name)
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise ApiError(400, "invalid", "Not a time with an offset.", {name: ["ISO-8601 with an offset."]})
    return parsed


class MyLedgerView(APIView):
    @extend_schema(
        tags=["citizen"], summary="My ledger postings, newest first, with running balances",
        parameters=[
            OpenApiParameter("unit", str, enum=["g", "pt"]),
            OpenApiParameter("account", str, enum=sorted(ACCOUNT_NAMES.values())),
            OpenApiParameter("kind", str, description="transaction kind, e.g. earn_credit"),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="inclusive"),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="exclusive"),
        ],
        responses=LedgerEntrySerializer(many=True),
    )
    def get(self, request):
        account = citizen_account(request.user)
        postings = citizen_postings(
            account=account, unit=request.query_params.get("unit"),
            account_name=request.query_params.get("account"), kind=request.query_params.get("kind"),
            since=_time(request, "since"), until=_time(request, "until"),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(postings, request, view=self)
        rows = [{
            "id": p.pk, "at": p.created_at, "kind": p.transaction.kind,
            "account": ACCOUNT_NAMES.get(p.account.kind, p.account.kind), "unit": p.unit,
            "amount": p.amount, "balance_after": p.balance_after, "reference": p.transaction.reference,
            "memo": p.transaction.memo,
        } for p in page]
        return paginator.get_paginated_response(LedgerEntrySerializer(rows, many=True).data)
