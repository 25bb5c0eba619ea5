"""Writes of partners and their keys, and operators' decisions on flagged records."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from carbonpoints.methodologies.selectors import action_codes

from .models import ActionRecord, ActionState, Partner, PartnerKey, ReviewDecision
from .signing import secret_encrypt


class UnknownActions(ValueError):
    pass


def _new_key(partner: Partner) -> tuple[PartnerKey, str]:
    secret = secrets.token_urlsafe(32)
    key = PartnerKey.objects.create(
        partner=partner, key_id=f"pk_{secrets.token_hex(8)}", secret_encrypted=secret_encrypt(secret)
    )
    return key, secret


@transaction.atomic
def partner_create(*, name: str, actions: list[str]) -> tuple[Partner, PartnerKey, str]:
    """A partner approved for ``actions``, with its first key; the secret is returned once."""
    unknown = sorted(set(actions) - set(action_codes()))
    if unknown:
        raise UnknownActions(", ".join(unknown))
    partner = Partner.objects.create(name=name, actions=sorted(set(actions)))
    key, secret = _new_key(partner)
    return partner, key, secret


@transaction.atomic
def partner_key_rotate(*, partner: Partner, overlap: timedelta | None = None) -> tuple[PartnerKey, str]:
    """A new key; the partner's current keys keep working for ``overlap`` (default a setting)."""
    if overlap is None:
        overlap = timedelta(hours=settings.PARTNER_KEY_OVERLAP_HOURS)
    until = timezone.now() + overlap
    for key in partner.keys.select_for_update().all():
        if key.expires_at is None or key.expires_at > until:
            key.expires_at = until
            key.save(update_fields=["expires_at"])
    return _new_key(partner)


def partner_status_set(*, partner: Partner, status: str) -> Partner:
    partner.status = status
    partner.save(update_fields=["status"])
    return partner


@transaction.atomic
def record_review(*, record: ActionRecord, operator: User, approve: bool) -> ActionRecord:
    """An operator's decision on a flagged record, kept as an audit row.

    Approving sends the record back to verification, which then skips the duplicate heuristic
    (every other rule, caps included, still applies); rejecting ends it.
    """
    from .tasks import verify_batch

    record = ActionRecord.objects.select_for_update().get(pk=record.pk)
    if record.state != ActionState.FLAGGED:
        raise ValueError("only flagged records are reviewed")
    decision = ActionRecord.Review.APPROVED if approve else ActionRecord.Review.REJECTED
    ReviewDecision.objects.create(record=record, operator=operator, decision=decision,
                                  previous_state=record.state, reason=record.reason)
    record.review = decision
    record.updated_at = timezone.now()
    rules = list(record.explanation.get("rules", []))
    rules.append({"code": "approved_on_review" if approve else "rejected_on_review"})
    record.explanation = {**record.explanation, "rules": rules}
    if approve:
        record.state, record.reason = ActionState.QUANTIFIED, ""
    else:
        record.state, record.reason = ActionState.REJECTED, "rejected_on_review"
    record.save()
    if approve:
        verify_batch.delay_on_commit(str(record.batch_id))
    return record
