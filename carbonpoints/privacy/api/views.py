"""PIPL rights over the API: ``me/export`` (200 now, or 202 and a worker) and ``me/delete``."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import citizen_account
from carbonpoints.api.errors import ApiError

from ..models import DataExport
from ..selectors import citizen_data, export_is_small, export_zip
from ..services import AccountAlreadyDeleted, PasswordIncorrect, account_delete, data_export_request
from . import serializers as s

ERROR = OpenApiResponse(description='`{"error": {"code", "message", "details"}}`')


def export_status(request, export: DataExport) -> dict:
    ready = export.state == DataExport.State.READY
    return {
        "id": str(export.pk), "state": export.state, "progress_percent": export.progress_percent,
        "created_at": export.created_at, "finished_at": export.finished_at,
        "status_url": reverse("me-export-status", args=[export.pk]),
        "download_url": reverse("me-export-download", args=[export.pk]) if ready else None,
    }


def zip_response(document: dict) -> HttpResponse:
    response = HttpResponse(export_zip(document), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="carbonpoints-my-data.zip"'
    return response


FORMAT = OpenApiParameter("as", str, enum=["json", "zip"], description="zip: one CSV per section (the portal's download)")


class MyExportView(APIView):
    @extend_schema(
        tags=["citizen"], summary="All my data (PIPL): now if small, else built by a worker",
        parameters=[FORMAT],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="The document"),
                   202: s.ExportStatusSerializer},
    )
    def get(self, request):
        account = citizen_account(request.user)
        if export_is_small(account=account):
            document = citizen_data(account=account)
            if request.query_params.get("as") == "zip":
                return zip_response(document)
            return Response(document)
        export = data_export_request(account=account)
        return Response(s.ExportStatusSerializer(export_status(request, export)).data, status=202)


def _my_export(request, export_id) -> DataExport:
    return get_object_or_404(DataExport.objects.defer("document"), pk=export_id,
                             account=citizen_account(request.user))


class MyExportStatusView(APIView):
    @extend_schema(tags=["citizen"], summary="An export's progress", responses={200: s.ExportStatusSerializer, 404: ERROR})
    def get(self, request, export_id):
        return Response(s.ExportStatusSerializer(export_status(request, _my_export(request, export_id))).data)


class MyExportDownloadView(APIView):
    @extend_schema(tags=["citizen"], summary="A ready export", parameters=[FORMAT],
                   responses={200: OpenApiResponse(OpenApiTypes.OBJECT), 404: ERROR, 409: ERROR})
    def get(self, request, export_id):
        export = _my_export(request, export_id)
        if export.state != DataExport.State.READY:
            raise ApiError(409, "export_not_ready", _("The export is not ready yet."),
                           {"progress_percent": export.progress_percent})
        document = DataExport.objects.values_list("document", flat=True).get(pk=export.pk)
        if request.query_params.get("as") == "zip":
            return zip_response(document)
        return Response(document)


class MyDeleteView(APIView):
    @extend_schema(
        tags=["citizen"], summary="Delete my account (PIPL); asks for the password again",
        request=s.DeleteRequestSerializer,
        responses={204: OpenApiResponse(description="Deleted: sessions ended, sign-in disabled"),
                   400: ERROR, 403: ERROR},
    )
    def post(self, request):
        citizen_account(request.user)
        payload = s.DeleteRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            account_delete(user=request.user, password=payload.validated_data["password"])
        except PasswordIncorrect:
            raise ApiError(403, "password_incorrect", _("The password is not correct.")) from None
        except AccountAlreadyDeleted:
            raise ApiError(403, "account_deleted", _("This account was deleted.")) from None
        return Response(status=204)
