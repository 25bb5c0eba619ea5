"""Writes of partners and their keys, citizens' links with consent, and operators' decisions."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import CarbonAccount, User
from carbonpoints.approvals import approver_check, operator_check
from carbonpoints.audit.services import audit_record
from carbonpoints.enqueue import task_enqueue_on_commit
from carbonpoints.methodologies.selectors import action_codes
from carbonpoints.regions.authority import authority_check, authority_check_all
from carbonpoints.regions.models import Region

from .exceptions import (
    ConsentRequired,
    LinkRevoked,
    ScenesNotApproved,
    SubjectAlreadyLinked,
    UnknownActions,
    UnknownPartner,
)
from .models import (
    ActionRecord,
    ActionState,
    Batch,
    ConsentChange,
    IdentityLink,
    Partner,
    PartnerKey,
    ReviewDecision,
    Upload,
)
from .pipeline.rules import explain
from .reasons import Reason
from .selectors import partner_regions
from .signing import secret_encrypt

if TYPE_CHECKING:
    from .intake import IntakeResult


def _new_key(partner: Partner) -> tuple[PartnerKey, str]:
    secret = secrets.token_urlsafe(32)
    key = PartnerKey.objects.create(
        partner=partner,
        key_id=f"pk_{secrets.token_hex(8)}",
        secret_encrypted=secret_encrypt(secret),
    )
    return key, secret


@transaction.atomic
def partner_create(
    *, name: str, actions: list[str], regions: list[str] | None = None
) -> tuple[Partner, PartnerKey, str]:
    """A partner approved for ``actions`` (and ``regions``, GB/T 2260 codes; none: the default
    region), with its first key; the secret is returned once."""
    unknown = sorted(set(actions) - set(action_codes()))
    if unknown:
        raise UnknownActions(", ".join(unknown))
    partner = Partner.objects.create(name=name, actions=sorted(set(actions)))
    if regions:
        partner.regions.set(Region.objects.filter(code__in=regions))
    key, secret = _new_key(partner)
    return partner, key, secret


@transaction.atomic
def partner_key_rotate(
    *, partner: Partner, overlap: timedelta | None = None
) -> tuple[PartnerKey, str]:
    """A new key; the partner's current keys keep working for ``overlap`` (default a setting)."""
    if overlap is None:
        overlap = timedelta(hours=settings.PARTNER_KEY_OVERLAP_HOURS)
    until = timezone.now() + overlap
    for key in partner.keys.select_for_update().all():
        if key.expires_at is None or key.expires_at > until:
            key.expires_at = until
            key.save(update_fields=["expires_at"])
    return _new_key(partner)


def partner_status_set(*, partner: Partner, status: str, actor: User | None = None) -> Partner:
    """Retire (disable) a partner or put it back in force; an operator's change is audited."""
    if actor is not None:
        operator_check(actor)
        authority_check_all(actor, partner_regions(partner))
    with transaction.atomic():
        was = partner.status
        partner.status = status
        partner.save(update_fields=["status"])
        if actor is not None:
            audit_record(
                actor=actor,
                action="partner.status_set",
                obj=partner,
                details={"from": was, "to": status},
            )
    return partner


def partner_draft(
    *, name: str, actions: list[str], author: User, regions: list[str] | None = None
) -> Partner:
    """A partner drafted by an operator: it signs nothing until another operator approves it.
    ``regions``: those it is approved for (none: the default region); the author's own."""
    operator_check(author)
    authority_check_all(author, regions or [None])
    unknown = sorted(set(actions) - set(action_codes()))
    if unknown:
        raise UnknownActions(", ".join(unknown))
    with transaction.atomic():
        partner = Partner.objects.create(
            name=name, actions=sorted(set(actions)), status=Partner.Status.DRAFT, written_by=author
        )
        if regions:
            partner.regions.set(Region.objects.filter(code__in=regions))
        audit_record(
            actor=author,
            action="partner.draft_create",
            obj=partner,
            details={"actions": partner.actions},
        )
    return partner


def partner_approve(*, partner: Partner, approver: User) -> Partner:
    """Four eyes: another operator approves a drafted partner, which is then in force."""
    from .exceptions import PartnerNotDraft

    with transaction.atomic():
        partner = Partner.objects.select_for_update().get(pk=partner.pk)
        if partner.status != Partner.Status.DRAFT:
            raise PartnerNotDraft(status=partner.status)
        approver_check(written_by_id=partner.written_by_id, approver=approver)
        authority_check_all(approver, partner_regions(partner))  # four eyes within its regions
        partner.status, partner.approved_at = Partner.Status.ACTIVE, timezone.now()
        partner.approved_by = approver
        partner.save(update_fields=["status", "approved_by", "approved_at"])
        audit_record(
            actor=approver,
            action="partner.approve",
            obj=partner,
            details={"written_by": partner.written_by_id},
        )
    return partner


@transaction.atomic
def record_review(*, record: ActionRecord, operator: User, approve: bool) -> ActionRecord:
    """An operator's decision on a flagged record, kept as an audit row.

    Approving sends the record back to verification, which then skips the duplicate heuristic
    (every other rule, caps included, still applies); rejecting ends it.
    """
    record = ActionRecord.objects.select_for_update().get(pk=record.pk)
    authority_check(operator, record.region_id)  # a city's operator: their city's records
    if record.state != ActionState.FLAGGED:
        raise ValueError("only flagged records are reviewed")
    decision = ActionRecord.Review.APPROVED if approve else ActionRecord.Review.REJECTED
    ReviewDecision.objects.create(
        record=record,
        operator=operator,
        decision=decision,
        previous_state=record.state,
        reason=record.reason,
    )
    record.review = decision
    record.updated_at = timezone.now()
    explain(record, Reason.APPROVED_ON_REVIEW if approve else Reason.REJECTED_ON_REVIEW)
    if approve:
        record.state, record.reason = ActionState.QUANTIFIED, ""
    else:
        record.state, record.reason = ActionState.REJECTED, Reason.REJECTED_ON_REVIEW
    record.save()
    if approve:
        task_enqueue_on_commit("earn.process_batch", str(record.batch_id))
    return record


def _scenes_checked(partner: Partner, scenes: list[str] | None) -> list[str]:
    """The scenes consented to: all of the partner's approved actions when none are named."""
    if scenes is None:
        return sorted(set(partner.actions))
    unknown = sorted(set(scenes) - set(partner.actions))
    if unknown or not scenes:
        raise ScenesNotApproved(scenes=unknown, approved=sorted(partner.actions))
    return sorted(set(scenes))


@transaction.atomic
def identity_link_create(
    *,
    account: CarbonAccount,
    partner: Partner,
    subject: str,
    scenes: list[str] | None,
    wording: str,
) -> IdentityLink:
    """Link a member id at a partner with the citizen's consent to these scenes (None: all)."""
    chosen = _scenes_checked(partner, scenes)
    existing = (
        IdentityLink.objects.select_for_update()
        .filter(partner=partner, subject=subject, revoked_at__isnull=True)
        .first()
    )
    if existing is not None:
        if existing.account_id != account.pk:
            raise SubjectAlreadyLinked()
        identity_link_revoke(link=existing)  # a renewed consent replaces the old one
    now = timezone.now()
    try:
        with transaction.atomic():
            link = IdentityLink.objects.create(
                account=account,
                partner=partner,
                subject=subject,
                scenes=chosen,
                consent_wording=wording,
                consented_at=now,
            )
    except IntegrityError as exc:  # a concurrent link of the same subject won
        raise SubjectAlreadyLinked() from exc
    ConsentChange.objects.create(
        link=link, kind=ConsentChange.Kind.GRANTED, scenes=chosen, wording=wording, at=now
    )
    return link


@transaction.atomic
def identity_link_scenes_set(
    *, link: IdentityLink, scenes: list[str] | None, wording: str
) -> IdentityLink:
    """Change the scenes a link consents to; the change is kept in the consent history."""
    link = IdentityLink.objects.select_for_update().select_related("partner").get(pk=link.pk)
    if link.revoked_at is not None:
        raise LinkRevoked(link_id=link.pk)
    chosen = _scenes_checked(link.partner, scenes)
    now = timezone.now()
    link.scenes, link.consent_wording, link.consented_at = chosen, wording, now
    link.save(update_fields=["scenes", "consent_wording", "consented_at"])
    ConsentChange.objects.create(
        link=link, kind=ConsentChange.Kind.CHANGED, scenes=chosen, wording=wording, at=now
    )
    return link


@transaction.atomic
def identity_link_revoke(*, link: IdentityLink) -> IdentityLink:
    """Withdraw consent: future records of this subject are no longer credited."""
    now = timezone.now()
    if IdentityLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=now):
        ConsentChange.objects.create(
            link_id=link.pk, kind=ConsentChange.Kind.REVOKED, scenes=[], at=now
        )
    link.refresh_from_db()
    return link


def link_held_release(*, link: IdentityLink) -> int:
    """A link (or wider consent) may cover records held as unlinked: they go back to verification,
    enqueued after commit. Returns how many were released."""
    from .pipeline import unlinked_release

    batch_ids, released = unlinked_release(partner_id=link.partner_id, subject=link.subject)
    for batch_id in batch_ids:
        task_enqueue_on_commit("earn.process_batch", batch_id)
    return released


def identity_link_grant(
    *,
    account: CarbonAccount,
    partner_id: int,
    subject: str,
    scenes: list[str] | None,
    consent: bool,
    local_names: bool = False,
) -> tuple[IdentityLink, int]:
    """The citizen links a member id at an active partner, consenting to the wording shown for these
    scenes (None: all); the held records the link covers are released. The link, and how many.
    ``local_names``: the wording names things in the reader's language only, as the portal shows it."""
    from .selectors import consent_wording, partner_active

    if not consent:
        raise ConsentRequired()
    partner = partner_active(partner_id=partner_id)
    if partner is None:
        raise UnknownPartner(partner_id=partner_id)
    with transaction.atomic():  # a member id linked elsewhere: SubjectAlreadyLinked
        link = identity_link_create(
            account=account,
            partner=partner,
            subject=subject,
            scenes=scenes,
            wording=consent_wording(
                partner=partner,
                subject=subject,
                scenes=scenes or partner.actions,
                local=local_names,
            ),
        )
        return link, link_held_release(link=link)


def identity_link_consent_change(
    *, link: IdentityLink, scenes: list[str] | None, consent: bool, local_names: bool = False
) -> tuple[IdentityLink, int]:
    """The citizen consents to other scenes of a link (None: all); a wider consent releases the
    held records it now covers. The link, and how many were released."""
    from .selectors import consent_wording

    if not consent:
        raise ConsentRequired()
    with transaction.atomic():  # ScenesNotApproved, LinkRevoked
        link = identity_link_scenes_set(
            link=link,
            scenes=scenes,
            wording=consent_wording(
                partner=link.partner,
                subject=link.subject,
                scenes=scenes or link.partner.actions,
                local=local_names,
            ),
        )
        return link, link_held_release(link=link)


def events_receive(*, partner: Partner, body: bytes) -> tuple[Batch, IntakeResult]:
    """A partner's feed request: its events decided and stored as one new batch
    (``MalformedBody`` when the body as a whole cannot be read)."""
    from .intake import candidate_from_json, envelope_decode, events_ingest

    candidates = [candidate_from_json(raw) for raw in envelope_decode(body)]
    with transaction.atomic():
        batch = Batch.objects.create(partner=partner)
        return batch, events_ingest(partner=partner, batch=batch, candidates=candidates)


def upload_receive(*, partner: Partner, content: bytes, format: str) -> Upload:
    """A bulk file kept as sent and handed to a worker after commit; its state as it stands then."""
    from .uploads import upload_create

    with transaction.atomic():
        upload = upload_create(partner=partner, content=content, format=format)
        task_enqueue_on_commit("earn.process_upload", str(upload.pk))
    upload.refresh_from_db()
    return upload
