from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.exceptions import NotACitizen
from accounts.selectors import citizen_account_summary, citizen_postings
from carbonpoints.api.filters import filter_parameters, query_params
from carbonpoints.api.pagination import Pagination
from carbonpoints.api.schema import errors, page_of

from .filters import MyLedgerFilter
from .permissions import IsCitizen
from .serializers import AccountSerializer, LedgerEntrySerializer

_ACCOUNT = AccountSerializer()
"""One serializer for every account page (it keeps no state)."""


class MyAccountView(APIView):
    @extend_schema(responses=AccountSerializer, tags=["citizen"], summary="My carbon account")
    def get(self, request):
        # The summary is also the citizen check: the user comes with their carbon account
        # (accounts.authentication.USERS) and the summary from its cache, so most answers read no
        # table at all (a test holds the page to three queries).
        summary = citizen_account_summary(user=request.user)
        if summary is None:
            raise NotACitizen()
        return Response(_ACCOUNT.to_representation(summary))


class MyLedgerView(APIView):
    permission_classes = [IsCitizen]

    @extend_schema(
        tags=["citizen"], summary="My ledger postings, newest first, with running balances",
        operation_id="me_ledger_list",
        parameters=filter_parameters(MyLedgerFilter),
        responses={200: page_of(LedgerEntrySerializer), **errors(400, 403)},
    )
    def get(self, request):
        account = request.user.carbon_account
        params = query_params(MyLedgerFilter, request)
        postings = citizen_postings(
            account=account, unit=params["unit"] or None, account_name=params["account"] or None,
            kind=params["kind"] or None, since=params["since"], until=params["until"],
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(postings, request, view=self)
        return paginator.get_paginated_response(LedgerEntrySerializer(page, many=True).data)
