from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from carbonpoints.api.errors import ApiError
from accounts.selectors import carbon_account_summary

from .serializers import AccountSerializer


def citizen_account(user):
    """The signed-in citizen's carbon account, or a 403 with a code for other roles."""
    account = getattr(user, "carbon_account", None)
    if account is None:
        raise ApiError(403, "not_a_citizen", "Only citizens have a carbon account.")
    return account


class MyAccountView(APIView):
    @extend_schema(responses=AccountSerializer, tags=["citizen"], summary="My carbon account")
    def get(self, request):
        summary = carbon_account_summary(account=citizen_account(request.user))
        return Response(AccountSerializer(summary).data)
