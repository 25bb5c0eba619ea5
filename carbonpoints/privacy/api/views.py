"""PIPL rights over the API: ``me/export`` (200 now, or 202 and a worker) and ``me/delete``."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import IsCitizen
from carbonpoints.api.lean import AppAPIView

from ..exceptions import ExportNotFound
from ..selectors import (
    citizen_data,
    citizen_export,
    citizen_export_document,
    export_is_small,
    export_zip,
)
from ..services import account_delete, data_export_request
from . import serializers as s

ERROR = OpenApiResponse(description='`{"error": {"code", "message", "details"}}`')


def zip_response(document: dict) -> HttpResponse:
    response = HttpResponse(export_zip(document), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="carbonpoints-my-data.zip"'
    return response


def _document_response(request, document: dict) -> HttpResponse:
    """The document as JSON, or as a ZIP of CSVs with ``?as=zip`` (the portal's download)."""
    if request.query_params.get("as") == "zip":
        return zip_response(document)
    return Response(document)


FORMAT = OpenApiParameter(
    "as", str, enum=["json", "zip"], description="zip: one CSV per section (the portal's download)"
)


class MyExportView(AppAPIView):
    permission_classes = [IsCitizen]

    @extend_schema(
        tags=["citizen"],
        summary="All my data (PIPL): now if small, else built by a worker",
        parameters=[FORMAT],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The document"),
            202: s.ExportStatusSerializer,
        },
    )
    def get(self, request):
        account = request.user.carbon_account
        if export_is_small(account=account):
            return _document_response(request, citizen_data(account=account))
        export = data_export_request(account=account)
        return Response(s.ExportStatusSerializer(export).data, status=202)


class MyExportStatusView(AppAPIView):
    permission_classes = [IsCitizen]

    @extend_schema(
        tags=["citizen"],
        summary="An export's progress",
        responses={200: s.ExportStatusSerializer, 404: ERROR},
    )
    def get(self, request, export_id):
        export = citizen_export(account=request.user.carbon_account, export_id=export_id)
        if export is None:
            raise ExportNotFound()
        return Response(s.ExportStatusSerializer(export).data)


class MyExportDownloadView(APIView):
    permission_classes = [IsCitizen]

    @extend_schema(
        tags=["citizen"],
        summary="A ready export",
        parameters=[FORMAT],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT), 404: ERROR, 409: ERROR},
    )
    def get(self, request, export_id):
        document = citizen_export_document(account=request.user.carbon_account, export_id=export_id)
        return _document_response(request, document)


class MyDeleteView(AppAPIView):
    permission_classes = [IsCitizen]

    @extend_schema(
        tags=["citizen"],
        summary="Delete my account (PIPL); asks for the password again",
        request=s.DeleteRequestSerializer,
        responses={
            204: OpenApiResponse(description="Deleted: sessions ended, sign-in disabled"),
            400: ERROR,
            403: ERROR,
        },
    )
    def post(self, request):
        payload = s.DeleteRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        account_delete(user=request.user, password=payload.validated_data["password"])
        return Response(status=204)
