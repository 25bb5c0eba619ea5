"""Claims in the API: the citizen files and follows; the partner polls its queue and answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts.api.permissions import IsCitizen
from carbonpoints.api.lean import AppAPIView
from carbonpoints.api.schema import errors
from carbonpoints.earn.api.views import SIGNED, PartnerView
from carbonpoints.earn.exceptions import UnknownPartner
from carbonpoints.earn.selectors import partner_active

from .. import selectors, services
from ..exceptions import ClaimNotFound
from . import serializers as s
from .serializers import STATUS_MESSAGES

if TYPE_CHECKING:
    from ..models import Claim

__all__ = ["STATUS_MESSAGES"]  # the portal's claims page reads them from here


class MyClaimsView(AppAPIView):
    permission_classes = [IsCitizen]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=["citizen"],
        summary="My claims for missing records",
        responses={200: s.ClaimSerializer(many=True), **errors(403)},
    )
    def get(self, request):
        claims = selectors.citizen_claims(account_id=request.user.carbon_account.pk)
        return Response(s.ClaimSerializer(claims, many=True).data)

    @extend_schema(
        tags=["citizen"],
        summary="Claim an action a partner did not send (multipart, with evidence)",
        request={"multipart/form-data": s.ClaimRequestSerializer},
        responses={201: s.ClaimSerializer, **errors(400, 403)},
    )
    def post(self, request):
        payload = s.ClaimRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        partner = partner_active(partner_id=data["partner_id"])
        if partner is None:
            raise UnknownPartner(partner_id=data["partner_id"])
        claim = services.claim_file(
            account=request.user.carbon_account,
            partner=partner,
            action=data["action"],
            quantity=data["quantity"],
            occurred_at=data["occurred_at"],
            evidence=data["evidence"],
            note=data["note"],
            self_reported=data["self_reported"],
            region=data["region"] or None,
        )
        return Response(s.ClaimSerializer(claim).data, status=201)


class PartnerClaimsView(PartnerView):
    @extend_schema(
        tags=["partner"],
        summary="Claims waiting for your answer (poll)",
        parameters=SIGNED,
        responses={200: s.PartnerClaimSerializer(many=True), **errors(401)},
    )
    def get(self, request):
        claims = selectors.partner_claims(partner_id=self.partner.pk)[:500]
        return Response(
            s.PartnerClaimSerializer(
                [services.claim_as_partner_sees_it(c) for c in claims], many=True
            ).data
        )


class _PartnerClaimView(PartnerView):
    def claim(self, claim_id: int) -> Claim:
        claim = selectors.partner_claim(partner_id=self.partner.pk, claim_id=claim_id)
        if claim is None:
            raise ClaimNotFound()
        return claim


class PartnerClaimConfirmView(_PartnerClaimView):
    @extend_schema(
        tags=["partner"],
        summary="Confirm a claim: it becomes your record claim-<id>",
        parameters=SIGNED,
        request=None,
        responses={200: s.PartnerClaimDecisionSerializer, **errors(401, 404, 409)},
    )
    def post(self, request, claim_id):
        claim = services.claim_confirm(claim=self.claim(claim_id), partner=self.partner)
        return Response(
            s.PartnerClaimDecisionSerializer(
                {
                    **services.claim_as_partner_sees_it(claim),
                    "record_state": claim.record.state if claim.record else None,
                }
            ).data
        )


class PartnerClaimDenyView(_PartnerClaimView):
    @extend_schema(
        tags=["partner"],
        summary="Deny a claim, saying why (the citizen reads it)",
        parameters=SIGNED,
        request=s.DenyRequestSerializer,
        responses={200: s.PartnerClaimDecisionSerializer, **errors(400, 401, 404, 409)},
    )
    def post(self, request, claim_id):
        payload = s.DenyRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        claim = services.claim_deny(
            claim=self.claim(claim_id),
            partner=self.partner,
            reason=payload.validated_data["reason"],
        )
        return Response(
            s.PartnerClaimDecisionSerializer(
                {**services.claim_as_partner_sees_it(claim), "record_state": None}
            ).data
        )


class PartnerClaimEvidenceView(_PartnerClaimView):
    @extend_schema(
        tags=["partner"],
        summary="The claim's evidence image",
        parameters=SIGNED,
        responses={(200, "image/*"): bytes, **errors(401, 404)},
    )
    def get(self, request, claim_id):
        claim = self.claim(claim_id)
        return FileResponse(claim.evidence.open("rb"), content_type=claim.evidence_type)
