from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from accounts.authentication import read_ahead
from accounts.exceptions import NotACitizen
from accounts.selectors import carbon_account_summary, citizen_account_summary, citizen_postings
from accounts.services import account_home_region_set
from carbonpoints.api.filters import filter_parameters, query_params
from carbonpoints.api.lean import AppAPIView
from carbonpoints.api.pagination import Pagination
from carbonpoints.api.schema import errors, page_of

from .filters import MyLedgerFilter
from .permissions import IsCitizen, citizen_of
from .serializers import AccountChangeSerializer, AccountSerializer, LedgerEntrySerializer

_ACCOUNT = AccountSerializer()
"""One serializer for every account page (it keeps no state)."""


class MyAccountView(AppAPIView):
    @extend_schema(responses=AccountSerializer, tags=["citizen"], summary="My carbon account")
    def get(self, request):
        # The summary is also the citizen check: the user comes with their carbon account
        # (accounts.authentication.USERS) and the summary from its cache, so most answers read no
        # table at all (a test holds the page to three queries); the session, the user and the
        # summary come in one round trip to Redis (accounts.authentication.one_read).
        summary = citizen_account_summary(user=request.user, read_ahead=read_ahead(request))
        if summary is None:
            raise NotACitizen()
        return Response(_ACCOUNT.to_representation(summary))

    @extend_schema(
        request=AccountChangeSerializer,
        responses={200: AccountSerializer, **errors(400, 403)},
        tags=["citizen"],
        summary="Choose my home region",
    )
    def patch(self, request):
        account = citizen_of(request.user)
        change = AccountChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        account_home_region_set(account=account, region=change.validated_data["home_region"])
        return Response(_ACCOUNT.to_representation(carbon_account_summary(account=account)))


class MyLedgerView(AppAPIView):
    permission_classes = [IsCitizen]

    @extend_schema(
        tags=["citizen"],
        summary="My ledger postings, newest first, with running balances",
        operation_id="me_ledger_list",
        parameters=filter_parameters(MyLedgerFilter),
        responses={200: page_of(LedgerEntrySerializer), **errors(400, 403)},
    )
    def get(self, request):
        account = request.user.carbon_account
        params = query_params(MyLedgerFilter, request)
        postings = citizen_postings(
            account=account,
            unit=params["unit"] or None,
            account_name=params["account"] or None,
            kind=params["kind"] or None,
            since=params["since"],
            until=params["until"],
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(postings, request, view=self)
        return paginator.get_paginated_response(LedgerEntrySerializer(page, many=True).data)
