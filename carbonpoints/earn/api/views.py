"""The earn side's HTTP API: the partner feed (signed) and the citizen's links and actions.

A view is its permissions, an input serializer (or a FilterSet), one service or selector call,
and an output serializer; refusals are domain errors, answered by the one exception handler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import IsCitizen
from carbonpoints.api.filters import filter_parameters, query_params
from carbonpoints.api.lean import AppAPIView
from carbonpoints.api.pagination import Pagination
from carbonpoints.api.schema import errors, page_of

from .. import selectors, services
from ..authentication import (
    MAX_BODY_BYTES,
    MAX_UPLOAD_BYTES,
    IsPartner,
    PartnerSignatureAuthentication,
    raw_body,
)
from ..corrections import action_correct_by_partner, action_retract
from ..exceptions import ActionNotFound, BatchNotFound, LinkNotFound, RecordNotFound, UploadNotFound
from . import serializers as s
from .filters import MyActionsFilter
from .throttling import PartnerThrottle

if TYPE_CHECKING:
    from ..models import IdentityLink, Partner

SIGNED = [
    OpenApiParameter("X-CP-Key", str, OpenApiParameter.HEADER, required=True),
    OpenApiParameter(
        "X-CP-Timestamp",
        str,
        OpenApiParameter.HEADER,
        required=True,
        description="Unix seconds, within 300 s of the server's clock.",
    ),
    OpenApiParameter(
        "X-CP-Signature",
        str,
        OpenApiParameter.HEADER,
        required=True,
        description='hex(HMAC-SHA256(secret, timestamp + "\\n" + METHOD + "\\n" + path_with_query '
        '+ "\\n" + hex(sha256(body))))',
    ),
]


class PartnerView(APIView):
    """Signed partner requests: no session; a per-partner rate instead of the per-user one."""

    authentication_classes = [PartnerSignatureAuthentication]
    permission_classes = [IsPartner]
    throttle_classes = [PartnerThrottle]
    body_limit = MAX_BODY_BYTES

    @property
    def partner(self) -> Partner:
        return self.request.user.partner  # type: ignore[union-attr]  # a PartnerPrincipal (IsPartner)


class PartnerEventsView(PartnerView):
    @extend_schema(
        tags=["partner"],
        summary="Send action records",
        parameters=SIGNED,
        request=s.EventsRequestSerializer,
        responses={202: s.EventsResponseSerializer, **errors(400, 401, 403, 413)},
    )
    def post(self, request):
        batch, result = services.events_receive(
            partner=self.partner, body=raw_body(request, self.body_limit)
        )
        # A plain dict: thousands of results through a serializer would cost more than the intake.
        return Response(
            {
                "batch_id": str(batch.pk),
                "received": result.accepted,
                "duplicates": result.duplicates,
                "rejected": result.rejected,
                "results": result.results,
            },
            status=202,
        )


class PartnerBatchView(PartnerView):
    @extend_schema(
        tags=["partner"],
        summary="A batch's progress",
        parameters=SIGNED,
        responses={200: s.BatchStatusSerializer, **errors(401, 404)},
    )
    def get(self, request, batch_id):
        batch = selectors.partner_batch(partner=self.partner, batch_id=batch_id)
        if batch is None:
            raise BatchNotFound()
        return Response(s.BatchStatusSerializer(selectors.batch_status(batch=batch)).data)


class PartnerEventView(PartnerView):
    @extend_schema(
        tags=["partner"],
        summary="One record's state, reason and explanation",
        parameters=SIGNED,
        responses={200: s.PartnerEventStatusSerializer, **errors(401, 404)},
    )
    def get(self, request, external_id):
        record = selectors.partner_record(partner=self.partner, external_id=external_id)
        if record is None:
            raise RecordNotFound()
        return Response(s.PartnerEventStatusSerializer(record).data)


class PartnerEventRetractView(PartnerView):
    @extend_schema(
        tags=["partner"],
        summary="Retract an accepted record (reversed, or ended if not credited)",
        parameters=SIGNED,
        request=s.RetractRequestSerializer,
        responses={200: s.PartnerEventStatusSerializer, **errors(400, 401, 404, 409)},
    )
    def post(self, request, external_id):
        body = s.RetractRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        action_retract(
            partner=self.partner, external_id=external_id, reason=body.validated_data["reason"]
        )
        record = selectors.partner_record(partner=self.partner, external_id=external_id)
        return Response(s.PartnerEventStatusSerializer(record).data)


class PartnerEventCorrectView(PartnerView):
    @extend_schema(
        tags=["partner"],
        summary="Correct an accepted record's quantity (reversed, then credited again)",
        parameters=SIGNED,
        request=s.CorrectRequestSerializer,
        responses={200: s.PartnerEventStatusSerializer, **errors(400, 401, 404, 409)},
    )
    def post(self, request, external_id):
        body = s.CorrectRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        action_correct_by_partner(
            partner=self.partner,
            external_id=external_id,
            quantity=body.validated_data["quantity"],
            reason=body.validated_data["reason"],
        )
        record = selectors.partner_record(partner=self.partner, external_id=external_id)
        return Response(s.PartnerEventStatusSerializer(record).data)


CONTENT_TYPES = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl",
    "application/jsonlines": "jsonl",
}


class PartnerUploadsView(PartnerView):
    body_limit = MAX_UPLOAD_BYTES

    @extend_schema(
        tags=["partner"],
        summary="Upload a bulk file (CSV or JSON Lines, gzip allowed)",
        parameters=[
            *SIGNED,
            OpenApiParameter(
                "type",
                str,
                OpenApiParameter.QUERY,
                enum=["csv", "jsonl"],
                description="Overrides the Content-Type.",
            ),
        ],
        request={"text/csv": OpenApiTypes.BINARY, "application/x-ndjson": OpenApiTypes.BINARY},
        responses={202: s.UploadStatusSerializer, **errors(400, 401, 413)},
    )
    def post(self, request):
        body = raw_body(request, self.body_limit)
        content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        fmt = request.query_params.get("type") or CONTENT_TYPES.get(content_type, "")
        upload = services.upload_receive(partner=self.partner, content=body, format=fmt)
        return Response(s.UploadStatusSerializer(upload).data, status=202)


class PartnerUploadView(PartnerView):
    @extend_schema(
        tags=["partner"],
        summary="A bulk upload's progress",
        parameters=SIGNED,
        responses={200: s.UploadStatusSerializer, **errors(401, 404)},
    )
    def get(self, request, upload_id):
        upload = selectors.partner_upload(partner=self.partner, upload_id=upload_id)
        if upload is None:
            raise UploadNotFound()
        return Response(s.UploadStatusSerializer(upload).data)


# --- citizen ------------------------------------------------------------------------------


class MyLinksView(AppAPIView):
    permission_classes = [IsCitizen]

    @extend_schema(
        tags=["citizen"],
        summary="My partner links",
        responses={200: s.LinkSerializer(many=True), **errors(403)},
    )
    def get(self, request):
        links = selectors.citizen_links(account_id=request.user.carbon_account.pk)
        return Response(s.LinkSerializer(links, many=True).data)

    @extend_schema(
        tags=["citizen"],
        summary="Link a member id at a partner, with consent to some or all scenes",
        request=s.LinkRequestSerializer,
        responses={201: s.LinkSerializer, **errors(400, 403, 409)},
    )
    def post(self, request):
        payload = s.LinkRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        link, released = services.identity_link_grant(
            account=request.user.carbon_account,
            partner_id=data["partner_id"],
            subject=data["subject"],
            scenes=data.get("scenes"),
            consent=data["consent"],
        )
        return Response(
            s.LinkSerializer(link, context={"released": released, "history": True}).data, status=201
        )


class MyLinkView(AppAPIView):
    permission_classes = [IsCitizen]

    def _link(self, request, link_id) -> IdentityLink:
        link = selectors.citizen_link(account_id=request.user.carbon_account.pk, link_id=link_id)
        if link is None:
            raise LinkNotFound()
        return link

    @extend_schema(
        tags=["citizen"],
        summary="One link, with its consent history",
        responses={200: s.LinkSerializer, **errors(403, 404)},
    )
    def get(self, request, link_id):
        return Response(
            s.LinkSerializer(self._link(request, link_id), context={"history": True}).data
        )

    @extend_schema(
        tags=["citizen"],
        summary="Change the scenes a link consents to (kept in its history)",
        request=s.LinkChangeSerializer,
        responses={200: s.LinkSerializer, **errors(400, 403, 404, 409)},
    )
    def patch(self, request, link_id):
        link = self._link(request, link_id)
        payload = s.LinkChangeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        link, released = services.identity_link_consent_change(
            link=link, scenes=data["scenes"], consent=data["consent"]
        )
        return Response(
            s.LinkSerializer(link, context={"released": released, "history": True}).data
        )

    @extend_schema(
        tags=["citizen"],
        summary="Revoke a link (stops future crediting)",
        responses={200: s.LinkSerializer, **errors(403, 404)},
    )
    def delete(self, request, link_id):
        link = services.identity_link_revoke(link=self._link(request, link_id))
        return Response(s.LinkSerializer(link, context={"history": True}).data)


class MyActionsView(AppAPIView):
    permission_classes = [IsCitizen]

    @extend_schema(
        tags=["citizen"],
        summary="My actions, newest first",
        operation_id="me_actions_list",
        parameters=filter_parameters(MyActionsFilter),
        responses={200: page_of(s.MyActionSerializer), **errors(400, 403)},
    )
    def get(self, request):
        account = request.user.carbon_account
        records = selectors.citizen_action_rows(
            account_id=account.pk, **query_params(MyActionsFilter, request)
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(records, request, view=self)
        return paginator.get_paginated_response(s.MyActionSerializer(page, many=True).data)


class MyActionView(AppAPIView):
    permission_classes = [IsCitizen]

    @extend_schema(
        tags=["citizen"],
        summary="One action and why it earned this many points",
        responses={200: s.MyActionDetailSerializer, **errors(403, 404)},
    )
    def get(self, request, action_id):
        record = selectors.citizen_action(
            account_id=request.user.carbon_account.pk, action_id=action_id
        )
        if record is None:
            raise ActionNotFound()
        return Response(s.MyActionDetailSerializer(record).data)


class PartnersView(AppAPIView):
    @extend_schema(
        tags=["citizen"],
        summary="Partners a citizen can link",
        responses={200: s.PartnerSerializer(many=True)},
    )
    def get(self, request):
        return Response(s.PartnerSerializer(selectors.partners_active(), many=True).data)
