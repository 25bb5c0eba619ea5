"""The earn side's HTTP API: the partner feed (signed) and the citizen's links and actions."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import IsCitizen
from carbonpoints.api.errors import ApiError
from carbonpoints.api.filters import filter_parameters, query_params
from carbonpoints.api.pagination import Pagination
from carbonpoints.api.schema import errors, page_of

from .. import selectors
from ..authentication import (
    MAX_BODY_BYTES,
    MAX_UPLOAD_BYTES,
    IsPartner,
    PartnerSignatureAuthentication,
    raw_body,
)
from ..corrections import action_correct_by_partner, action_retract
from ..exceptions import ConsentRequired, RecordNotFound, UnknownPartner
from ..intake import MalformedBody, candidate_from_json, envelope_decode, events_ingest
from ..models import ActionRecord, ActionState, Batch, IdentityLink, Partner, Upload
from ..services import (
    identity_link_create,
    identity_link_revoke,
    identity_link_scenes_set,
    link_held_release,
)
from ..tasks import process_upload
from ..uploads import UploadRefused, upload_create
from . import serializers as s
from .filters import MyActionsFilter
from .throttling import PartnerThrottle

SIGNED = [
    OpenApiParameter("X-CP-Key", str, OpenApiParameter.HEADER, required=True),
    OpenApiParameter("X-CP-Timestamp", str, OpenApiParameter.HEADER, required=True,
                     description="Unix seconds, within 300 s of the server's clock."),
    OpenApiParameter("X-CP-Signature", str, OpenApiParameter.HEADER, required=True,
                     description='hex(HMAC-SHA256(secret, timestamp + "\\n" + METHOD + "\\n" + path_with_query '
                                 '+ "\\n" + hex(sha256(body))))'),
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
        tags=["partner"], summary="Send action records", parameters=SIGNED,
        request=s.EventsRequestSerializer,
        responses={202: s.EventsResponseSerializer, **errors(400, 401, 403, 413)},
    )
    def post(self, request):
        body = raw_body(request, self.body_limit)
        try:
            raws = envelope_decode(body)
        except MalformedBody as exc:
            raise ApiError(400, "malformed_request",
                           _('The body must be {"events": [...]} with 1 to 5000 events.'),
                           {"reason": str(exc)}) from None
        candidates = [candidate_from_json(raw) for raw in raws]
        with transaction.atomic():
            batch = Batch.objects.create(partner=self.partner)
            result = events_ingest(partner=self.partner, batch=batch, candidates=candidates)
        return Response({
            "batch_id": str(batch.pk), "received": result.accepted, "duplicates": result.duplicates,
            "rejected": result.rejected, "results": result.results,
        }, status=202)


class PartnerBatchView(PartnerView):
    @extend_schema(tags=["partner"], summary="A batch's progress", parameters=SIGNED,
                   responses={200: s.BatchStatusSerializer, **errors(401, 404)})
    def get(self, request, batch_id):
        batch = get_object_or_404(Batch, pk=batch_id, partner=self.partner)
        return Response(s.BatchStatusSerializer(selectors.batch_status(batch=batch)).data)


class PartnerEventView(PartnerView):
    @extend_schema(tags=["partner"], summary="One record's state, reason and explanation",
                   parameters=SIGNED, responses={200: s.PartnerEventStatusSerializer, **errors(401, 404)})
    def get(self, request, external_id):
        record = selectors.partner_record(partner=self.partner, external_id=external_id)
        if record is None:
            raise RecordNotFound()
        return Response(_event_status(record))


def _event_status(record: ActionRecord) -> dict:
    return s.PartnerEventStatusSerializer({
        "external_id": record.external_id, "batch_id": str(record.batch_id), "action": record.action,
        "quantity": format(record.quantity.normalize(), "f"), "unit": record.unit,
        "occurred_at": record.occurred_at, "received_at": record.received_at, "state": record.state,
        "reason": record.reason, "reason_message": selectors.reason_message(record),
        "capped": record.capped, "explanation": selectors.explanation(record), "region": record.region_id,
    }).data


class PartnerEventRetractView(PartnerView):
    @extend_schema(tags=["partner"], summary="Retract an accepted record (reversed, or ended if not credited)",
                   parameters=SIGNED, request=s.RetractRequestSerializer,
                   responses={200: s.PartnerEventStatusSerializer, **errors(400, 401, 404, 409)})
    def post(self, request, external_id):
        body = s.RetractRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        action_retract(partner=self.partner, external_id=external_id, reason=body.validated_data["reason"])
        record = selectors.partner_record(partner=self.partner, external_id=external_id)
        assert record is not None  # just retracted
        return Response(_event_status(record))


class PartnerEventCorrectView(PartnerView):
    @extend_schema(tags=["partner"], summary="Correct an accepted record's quantity (reversed, then credited again)",
                   parameters=SIGNED, request=s.CorrectRequestSerializer,
                   responses={200: s.PartnerEventStatusSerializer, **errors(400, 401, 404, 409)})
    def post(self, request, external_id):
        body = s.CorrectRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        action_correct_by_partner(partner=self.partner, external_id=external_id,
                                  quantity=body.validated_data["quantity"], reason=body.validated_data["reason"])
        record = selectors.partner_record(partner=self.partner, external_id=external_id)
        assert record is not None  # just corrected
        return Response(_event_status(record))


CONTENT_TYPES = {
    "text/csv": "csv", "application/csv": "csv",
    "application/x-ndjson": "jsonl", "application/jsonl": "jsonl", "application/x-jsonlines": "jsonl",
    "application/jsonlines": "jsonl",
}


def _upload_status(upload: Upload) -> dict:
    total = upload.lines_total
    return {
        "upload_id": str(upload.pk), "state": upload.state, "format": upload.format,
        "gzipped": upload.gzipped, "size": upload.size, "lines_total": total, "lines_done": upload.lines_done,
        "progress_percent": (100 if upload.state == Upload.State.DONE else
                             (upload.lines_done * 100 // total if total else 0)),
        "error": upload.error, "batch_id": str(upload.batch_id) if upload.batch_id else None,
        "created_at": upload.created_at, "finished_at": upload.finished_at,
    }


class PartnerUploadsView(PartnerView):
    body_limit = MAX_UPLOAD_BYTES

    @extend_schema(
        tags=["partner"], summary="Upload a bulk file (CSV or JSON Lines, gzip allowed)",
        parameters=[*SIGNED, OpenApiParameter("type", str, OpenApiParameter.QUERY, enum=["csv", "jsonl"],
                                              description="Overrides the Content-Type.")],
        request={"text/csv": OpenApiTypes.BINARY, "application/x-ndjson": OpenApiTypes.BINARY},
        responses={202: s.UploadStatusSerializer, **errors(400, 401, 413)},
    )
    def post(self, request):
        body = raw_body(request, self.body_limit)
        content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        fmt = request.query_params.get("type") or CONTENT_TYPES.get(content_type, "")
        try:
            with transaction.atomic():
                upload = upload_create(partner=self.partner, content=body, format=fmt)
                process_upload.delay_on_commit(str(upload.pk))
        except UploadRefused as exc:
            raise ApiError(400, exc.code, str(exc)) from None
        upload.refresh_from_db()
        return Response(s.UploadStatusSerializer(_upload_status(upload)).data, status=202)


class PartnerUploadView(PartnerView):
    @extend_schema(tags=["partner"], summary="A bulk upload's progress", parameters=SIGNED,
                   responses={200: s.UploadStatusSerializer, **errors(401, 404)})
    def get(self, request, upload_id):
        upload = get_object_or_404(Upload.objects.defer("content"), pk=upload_id, partner=self.partner)
        return Response(s.UploadStatusSerializer(_upload_status(upload)).data)


# --- citizen ------------------------------------------------------------------------------

def _link(link: IdentityLink, released: int | None = None, history: bool = False) -> dict:
    data = {
        "id": link.pk, "partner_id": link.partner_id, "partner_name": link.partner.name,
        "subject": link.subject, "scenes": link.scenes, "actions": link.scenes,
        "consent_wording": link.consent_wording, "consented_at": link.consented_at, "revoked_at": link.revoked_at,
    }
    if released is not None:
        data["released"] = released
    if history:
        data["history"] = [{"kind": c.kind, "at": c.at, "scenes": c.scenes, "wording": c.wording}
                           for c in link.consent_history.all()]
    return data


class MyLinksView(APIView):
    permission_classes = [IsCitizen]

    @extend_schema(tags=["citizen"], summary="My partner links", responses={200: s.LinkSerializer(many=True), **errors(403)})
    def get(self, request):
        links = selectors.citizen_links(account_id=request.user.carbon_account.pk)
        return Response(s.LinkSerializer([_link(link) for link in links], many=True).data)

    @extend_schema(tags=["citizen"], summary="Link a member id at a partner, with consent to some or all scenes",
                   request=s.LinkRequestSerializer, responses={201: s.LinkSerializer, **errors(400, 403, 409)})
    def post(self, request):
        account = request.user.carbon_account
        payload = s.LinkRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if not data["consent"]:
            raise ConsentRequired()
        partner = Partner.objects.filter(pk=data["partner_id"], status=Partner.Status.ACTIVE).first()
        if partner is None:
            raise UnknownPartner(partner_id=data["partner_id"])
        scenes = data.get("scenes")
        with transaction.atomic():  # a member id linked elsewhere: SubjectAlreadyLinked, 409
            link = identity_link_create(
                account=account, partner=partner, subject=data["subject"], scenes=scenes,
                wording=selectors.consent_wording(partner=partner, subject=data["subject"],
                                                  scenes=scenes or partner.actions),
            )
            released = link_held_release(link=link)
        return Response(s.LinkSerializer(_link(link, released, history=True)).data, status=201)


class MyLinkView(APIView):
    permission_classes = [IsCitizen]

    def _link(self, request, link_id) -> IdentityLink:
        return get_object_or_404(IdentityLink.objects.select_related("partner"), pk=link_id,
                                 account=request.user.carbon_account)

    @extend_schema(tags=["citizen"], summary="One link, with its consent history",
                   responses={200: s.LinkSerializer, **errors(403, 404)})
    def get(self, request, link_id):
        return Response(s.LinkSerializer(_link(self._link(request, link_id), history=True)).data)

    @extend_schema(tags=["citizen"], summary="Change the scenes a link consents to (kept in its history)",
                   request=s.LinkChangeSerializer, responses={200: s.LinkSerializer, **errors(400, 403, 404, 409)})
    def patch(self, request, link_id):
        link = self._link(request, link_id)
        payload = s.LinkChangeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if not data["consent"]:
            raise ConsentRequired()
        scenes = data["scenes"]
        with transaction.atomic():  # ScenesNotApproved 400, LinkRevoked 409
            link = identity_link_scenes_set(
                link=link, scenes=scenes,
                wording=selectors.consent_wording(partner=link.partner, subject=link.subject,
                                                  scenes=scenes or link.partner.actions),
            )
            released = link_held_release(link=link)
        return Response(s.LinkSerializer(_link(link, released, history=True)).data)

    @extend_schema(tags=["citizen"], summary="Revoke a link (stops future crediting)",
                   responses={200: s.LinkSerializer, **errors(403, 404)})
    def delete(self, request, link_id):
        link = identity_link_revoke(link=self._link(request, link_id))
        return Response(s.LinkSerializer(_link(link, history=True)).data)


def _my_action(record: ActionRecord, detail: bool = False) -> dict:
    data = {
        "id": record.pk, "partner": record.partner.name, "action": record.action,
        "quantity": format(record.quantity.normalize(), "f"), "unit": record.unit,
        "occurred_at": record.occurred_at, "state": record.state, "reason": record.reason,
        "reason_message": selectors.reason_message(record), "capped": record.capped, "region": record.region_id,
        "consent_link": (reverse("me-link", args=[record.consent_link_id])
                         if getattr(record, "consent_link_id", None) else None),
        "credited_g": record.credited_g if record.state == ActionState.CREDITED else None,
        "points": record.points if record.state == ActionState.CREDITED else None,
        "sponsor": record.budget.sponsor.name if record.budget is not None else None,
        "points_status": selectors.points_status(record),
    }
    if detail:
        data["explanation"] = selectors.explanation(record)
    return data


class MyActionsView(APIView):
    permission_classes = [IsCitizen]

    @extend_schema(
        tags=["citizen"], summary="My actions, newest first", operation_id="me_actions_list",
        parameters=filter_parameters(MyActionsFilter),
        responses={200: page_of(s.MyActionSerializer), **errors(400, 403)},
    )
    def get(self, request):
        account = request.user.carbon_account
        records = selectors.citizen_actions(account_id=account.pk, **query_params(MyActionsFilter, request))
        paginator = Pagination()
        page = paginator.paginate_queryset(records, request, view=self)
        return paginator.get_paginated_response(s.MyActionSerializer([_my_action(r) for r in page], many=True).data)


class MyActionView(APIView):
    permission_classes = [IsCitizen]

    @extend_schema(tags=["citizen"], summary="One action and why it earned this many points",
                   responses={200: s.MyActionDetailSerializer, **errors(403, 404)})
    def get(self, request, action_id):
        record = selectors.citizen_action(account_id=request.user.carbon_account.pk, action_id=action_id)
        if record is None:
            raise Http404
        return Response(s.MyActionDetailSerializer(_my_action(record, detail=True)).data)


class PartnersView(APIView):
    @extend_schema(tags=["citizen"], summary="Partners a citizen can link",
                   responses={200: s.PartnerSerializer(many=True)})
    def get(self, request):
        partners = Partner.objects.filter(status=Partner.Status.ACTIVE).order_by("name")
        return Response(s.PartnerSerializer([{"id": p.pk, "name": p.name, "actions": p.actions} for p in partners],
                                            many=True).data)
