"""DRF authentication of partners by signed requests (X-CP-Key, X-CP-Timestamp, X-CP-Signature)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from io import BytesIO

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from .exceptions import (
    BadSignature,
    BodyTooLarge,
    MissingSignature,
    PartnerDisabled,
    StaleTimestamp,
    UnknownKey,
)
from .models import Partner, PartnerKey
from .signing import MAX_SKEW_S, secret_decrypt, signature_valid

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


@dataclass
class PartnerPrincipal:
    """``request.user`` of a signed partner request."""

    partner: Partner
    key: PartnerKey
    is_authenticated: bool = True
    is_anonymous: bool = False
    pk = None


def _now() -> float:
    return time.time()


def raw_body(request, limit: int) -> bytes:
    """The body exactly as sent, refused (413) beyond ``limit`` bytes before it is read."""
    django_request = request._request
    if not hasattr(django_request, "_body"):
        try:
            length = int(django_request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            raise BodyTooLarge(max_bytes=limit)
        data = django_request.read(limit + 1)
        if len(data) > limit:
            raise BodyTooLarge(max_bytes=limit)
        django_request._body = data
        django_request._stream = BytesIO(data)
    return django_request._body


def signed_path(django_request) -> str:
    """The path and query exactly as sent when the server tells it (gunicorn's RAW_URI)."""
    return (
        django_request.META.get("RAW_URI")
        or django_request.META.get("REQUEST_URI")
        or django_request.get_full_path()
    )


class PartnerSignatureAuthentication(BaseAuthentication):
    body_limit = MAX_BODY_BYTES

    def authenticate(self, request):
        meta = request._request.META
        key_id = meta.get("HTTP_X_CP_KEY")
        timestamp = meta.get("HTTP_X_CP_TIMESTAMP")
        given = meta.get("HTTP_X_CP_SIGNATURE")
        if not (key_id and timestamp and given):
            raise MissingSignature()
        try:
            skew = abs(_now() - int(timestamp))
        except ValueError:
            raise StaleTimestamp(_("X-CP-Timestamp must be unix seconds.")) from None
        if skew > MAX_SKEW_S:
            raise StaleTimestamp(max_skew_s=MAX_SKEW_S, server_time=int(_now()))
        key = (
            PartnerKey.objects.select_related("partner")
            .annotate(
                partner_regions=ArraySubquery(
                    Partner.regions.through.objects.filter(
                        partner_id=OuterRef("partner_id")
                    ).values("region_id"),
                )
            )
            .filter(key_id=key_id)
            .first()
        )  # the partner's regions in the same statement
        if key is None or not key.usable(timezone.now()):
            raise UnknownKey()
        key.partner.approved_regions = frozenset(key.partner_regions)
        if not key.partner.is_active:
            raise PartnerDisabled()
        limit = getattr(request.parser_context.get("view"), "body_limit", self.body_limit)
        body = raw_body(request, limit)
        if not signature_valid(
            secret=secret_decrypt(key.secret_encrypted),
            given=given,
            timestamp=timestamp,
            method=request.method,
            path=signed_path(request._request),
            body=body,
        ):
            raise BadSignature()
        return PartnerPrincipal(partner=key.partner, key=key), key

    def authenticate_header(self, request) -> str:
        return "X-CP-Signature"


class IsPartner(BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, PartnerPrincipal)
