"""Writes of claims: filing (with its evidence checked), the partner's answer, the webhook.

A confirmed or self-reported claim becomes a record through the partner feed's own intake
(``events_ingest``: the same refusals, verification, caps and crediting), as the event
``claim-<id>`` of the partner, so it is never counted twice.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from accounts.models import CarbonAccount
from carbonpoints.earn.intake import Candidate, Event, events_ingest
from carbonpoints.earn.models import ActionRecord, Batch, IdentityLink, Partner, PartnerKey
from carbonpoints.earn.selectors import partner_regions
from carbonpoints.earn.signing import secret_decrypt, signature
from carbonpoints.enqueue import task_enqueue_on_commit
from carbonpoints.methodologies.selectors import Catalogue
from carbonpoints.regions import codes

from . import exceptions
from .error_codes import ClaimErrorCode
from .models import Claim, PartnerWebhook

EVIDENCE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def evidence_check(evidence: UploadedFile) -> str:
    """The evidence's media type, read from its content (Pillow), not from its name; refused when
    too large or not an image of an accepted kind."""
    if evidence.size is None or evidence.size > settings.CLAIMS_EVIDENCE_MAX_BYTES:
        raise exceptions.EvidenceInvalid(max_bytes=settings.CLAIMS_EVIDENCE_MAX_BYTES)
    try:
        evidence.seek(0)
        with Image.open(evidence) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise exceptions.EvidenceInvalid(accepted=sorted(EVIDENCE_TYPES.values())) from error
    finally:
        evidence.seek(0)
    if kind not in EVIDENCE_TYPES:
        raise exceptions.EvidenceInvalid(accepted=sorted(EVIDENCE_TYPES.values()))
    return EVIDENCE_TYPES[kind]


def claim_file(
    *,
    account: CarbonAccount,
    partner: Partner,
    action: str,
    quantity: Decimal,
    occurred_at: datetime,
    evidence: UploadedFile,
    note: str = "",
    self_reported: bool = False,
    region: str | None = None,
) -> Claim:
    """A citizen's claim: to the partner's queue (and webhook), or, self-reported where the
    methodology allows it, taken in at once at its reduced rate. ``region``: where the action
    happened, among the partner's approved regions; without it, the partner's one region (a
    partner of several: refused, as its events are)."""
    now = timezone.now()
    link = (
        IdentityLink.objects.filter(account=account, partner=partner, revoked_at__isnull=True)
        .order_by("-consented_at")
        .first()
    )
    if partner.status != Partner.Status.ACTIVE or action not in partner.actions:
        raise exceptions.ActionNotOffered(action=action)
    if link is None or (link.scenes and action not in link.scenes):
        raise exceptions.NotLinked(partner_id=partner.pk, action=action)
    if quantity <= 0:
        raise exceptions.QuantityInvalid()
    if occurred_at > now or occurred_at < now - timedelta(days=settings.EARN_BACKFILL_DAYS):
        raise exceptions.OccurredAtInvalid(backfill_days=settings.EARN_BACKFILL_DAYS)
    region = claim_region(partner=partner, region=region)
    methodology = Catalogue().methodology_at(action, occurred_at, region)
    if methodology is None:
        raise exceptions.ActionNotOffered(action=action)
    if self_reported and methodology.self_reported_factor is None:
        raise exceptions.SelfReportNotAllowed(action=action)
    limit = methodology.max_quantity_per_record
    if limit is not None and quantity > limit:
        most = f"{limit.normalize():f}"
        raise exceptions.QuantityImplausible(
            _("At most %(max)s %(unit)s can be claimed for one action.")
            % {"max": most, "unit": methodology.unit},
            max=most,
            unit=methodology.unit,
        )
    if Claim.objects.filter(
        account=account,
        partner=partner,
        action=action,
        occurred_at=occurred_at,
        status__in=[Claim.Status.PENDING, Claim.Status.CONFIRMED, Claim.Status.TAKEN_IN],
    ).exists():
        raise exceptions.ClaimRepeated(action=action, occurred_at=occurred_at.isoformat())
    evidence_type = evidence_check(evidence)
    with transaction.atomic():
        claim = Claim.objects.create(
            account=account,
            partner=partner,
            link=link,
            action=action,
            quantity=quantity,
            unit=methodology.unit,
            occurred_at=occurred_at,
            region_id=region,
            note=note,
            evidence=evidence,
            evidence_type=evidence_type,
            kind=Claim.Kind.SELF_REPORTED if self_reported else Claim.Kind.MISSING,
        )
        if self_reported:
            _take_in(claim, now=now)
            claim.status, claim.decided_at = Claim.Status.TAKEN_IN, now
            claim.save(update_fields=["status", "decided_at", "record"])
        else:
            task_enqueue_on_commit("claims.notify_partner", claim.pk)
    return claim


def claim_region(*, partner: Partner, region: str | None) -> str:
    """Where a claimed action happened, by the partner feed's rule for an event's ``region``."""
    regions = partner_regions(partner)
    where, refused = codes.where_it_happened(region, regions)
    if refused == ClaimErrorCode.REGION_REQUIRED:
        raise exceptions.RegionRequired(regions=sorted(regions))
    if refused:
        raise exceptions.RegionNotApproved(region=region, regions=sorted(regions))
    return where


def _take_in(claim: Claim, *, now: datetime) -> None:
    """The claim as the partner's event ``claim-<id>``, through the feed's intake."""
    attributes: dict = {"claim_id": claim.pk}
    if claim.kind == Claim.Kind.SELF_REPORTED:
        attributes["self_reported"] = True
    event = Event(
        external_id=claim.external_id,
        subject=claim.link.subject,
        action=claim.action,
        quantity=claim.quantity,
        unit=claim.unit,
        occurred_at=claim.occurred_at,
        attributes=attributes,
        region=claim.region_id,
    )
    raw = json.dumps(
        {
            "external_id": event.external_id,
            "subject": event.subject,
            "action": event.action,
            "quantity": str(event.quantity),
            "unit": event.unit,
            "occurred_at": event.occurred_at.isoformat(),
            "region": event.region,
            "attributes": attributes,
        },
        ensure_ascii=False,
    )
    batch = Batch.objects.create(partner=claim.partner, source=Batch.Source.API)
    events_ingest(
        partner=claim.partner,
        batch=batch,
        candidates=[Candidate(raw=raw, external_id=event.external_id, event=event)],
    )
    claim.record = ActionRecord.objects.filter(
        partner=claim.partner, external_id=claim.external_id
    ).first()


def claim_confirm(*, claim: Claim, partner: Partner) -> Claim:
    """The partner confirms: the claim becomes its record, verified and credited like any other."""
    with transaction.atomic():
        claim = (
            Claim.objects.select_for_update()
            .select_related("link", "partner")
            .get(pk=claim.pk, partner=partner)
        )
        if claim.status != Claim.Status.PENDING:
            raise exceptions.ClaimAlreadyDecided(status=claim.status)
        now = timezone.now()
        _take_in(claim, now=now)
        claim.status, claim.decided_at = Claim.Status.CONFIRMED, now
        claim.save(update_fields=["status", "decided_at", "record"])
    return claim


def claim_deny(*, claim: Claim, partner: Partner, reason: str) -> Claim:
    """The partner denies, saying why: the citizen reads the reason."""
    with transaction.atomic():
        changed = Claim.objects.filter(
            pk=claim.pk, partner=partner, status=Claim.Status.PENDING
        ).update(status=Claim.Status.DENIED, denial_reason=reason[:500], decided_at=timezone.now())
        if not changed:
            raise exceptions.ClaimAlreadyDecided()
    claim.refresh_from_db()
    return claim


class WebhookFailed(Exception):
    """The partner's endpoint did not answer 2xx: the task retries."""


def claim_webhook_send(*, claim_id: int) -> bool:
    """POST the claim to the partner's webhook, signed as partners sign to us (their key's secret,
    the same headers), so they verify it with the code they already have. Idempotent: a delivered
    or decided claim is not sent again. Returns whether it was sent now."""
    claim = Claim.objects.select_related("partner").get(pk=claim_id)
    hook = PartnerWebhook.objects.filter(partner=claim.partner, active=True).first()
    if (
        hook is None
        or claim.webhook_delivered_at is not None
        or claim.status != Claim.Status.PENDING
    ):
        return False
    now = timezone.now()
    key = (
        PartnerKey.objects.filter(partner=claim.partner)
        .order_by("-created_at")
        .exclude(expires_at__lte=now)
        .first()
    )
    if key is None:
        return False
    Claim.objects.filter(pk=claim.pk).update(webhook_attempts=claim.webhook_attempts + 1)
    body = json.dumps({"claim": claim_as_partner_sees_it(claim)}, ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    parts = urlsplit(hook.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    request = urllib.request.Request(
        hook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-CP-Key": key.key_id,
            "X-CP-Timestamp": timestamp,
            "X-CP-Signature": signature(
                secret=secret_decrypt(key.secret_encrypted),
                timestamp=timestamp,
                method="POST",
                path=path,
                body=body,
            ),
            "X-CP-Body-SHA256": hashlib.sha256(body).hexdigest(),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.CLAIMS_WEBHOOK_TIMEOUT_S) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as error:
        raise WebhookFailed(f"HTTP {error.code}") from error
    except (urllib.error.URLError, OSError) as error:
        raise WebhookFailed(str(error)) from error
    if not 200 <= status < 300:
        raise WebhookFailed(f"HTTP {status}")
    Claim.objects.filter(pk=claim.pk).update(webhook_delivered_at=timezone.now())
    return True


def claim_as_partner_sees_it(claim: Claim) -> dict:
    """What a partner reads of a claim: no citizen data but the member id they know."""
    return {
        "id": claim.pk,
        "external_id": claim.external_id,
        "subject": claim.link.subject,
        "action": claim.action,
        "quantity": format(claim.quantity.normalize(), "f"),
        "unit": claim.unit,
        "occurred_at": timezone.localtime(claim.occurred_at).isoformat(),
        "region": claim.region_id,
        "note": claim.note,
        "status": claim.status,
        "filed_at": timezone.localtime(claim.created_at).isoformat(),
        "evidence_type": claim.evidence_type,
        "evidence_path": f"/api/v1/partner/claims/{claim.pk}/evidence",
    }
