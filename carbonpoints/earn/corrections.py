"""Corrections of credited actions: an operator's reversal and a partner's retraction.

Nothing is edited: a reversal posts a correcting ledger transaction that references the batch's
``earn_credit`` transaction and moves back exactly this action's share (its grams, its pool
claim, its points), leaving the citizen as if it had never been credited. Points come back from
the citizen's pending or available points first; what they no longer hold becomes a negative
carry that future credits pay off before they earn points, so no balance ever goes below zero.
The record ends in state ``reversed`` with the reason in its explanation, so the citizen sees why.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts import ledger_accounts as citizen_ledger
from accounts.services import accrual_post
from carbonpoints.audit.services import audit_record
from carbonpoints.budgets import ledger_accounts as budget_ledger
from carbonpoints.budgets.selectors import general_budget
from carbonpoints.ledger.keys import AccountKey
from carbonpoints.ledger.models import LedgerAccount, LedgerTransaction
from carbonpoints.ledger.services import ledger_accounts_get_or_create, transaction_post
from carbonpoints.regions.authority import authority_check

from . import ledger_accounts as earn_ledger
from .exceptions import (
    AlreadyReversed,
    ClaimRetired,
    NotReversible,
    QuantityInvalid,
    ReasonRequired,
)
from .models import ActionRecord, ActionState, Partner
from .pipeline import postings, runner, store
from .pipeline.rules import MICRO, explain, pool_of
from .reasons import Reason

ENDED_ON_RETRACTION = (
    ActionState.RECEIVED,
    ActionState.QUANTIFIED,
    ActionState.UNLINKED,
    ActionState.FLAGGED,
)
"""States a partner's retraction simply ends: nothing was credited, nothing is counted."""


@dataclass(frozen=True)
class Split:
    """Where a reversal takes a record's points from, and what it does to the carry."""

    from_pending: int
    from_available: int
    carry_change_g: int
    """Added to the citizen's carried remainder: negative when points are owed."""


def reversal_split(
    *, grams: int, points: int, grams_per_point: int, pending: bool, available: int, carried: int
) -> Split:
    """Pure arithmetic of a reversal: the citizen is left as if the record had never been credited.

    The record's grams come off the carry; points still pending (the record's own) come back from
    pending; then as many available points as the carry needs to be back at zero or above (never
    more than the citizen holds). What is still missing stays as a negative carry, in grams, that
    later credits pay off before they earn points.
    """
    from_pending = points if pending else 0
    short_g = carried - grams + from_pending * grams_per_point  # the carry without the record
    needed = -(short_g // grams_per_point) if short_g < 0 else 0  # points to bring it back to ≥ 0
    from_available = min(needed, max(available, 0))
    return Split(
        from_pending=from_pending,
        from_available=from_available,
        carry_change_g=short_g + from_available * grams_per_point - carried,
    )


def credit_transaction_of(record: ActionRecord) -> LedgerTransaction | None:
    """The batch's ``earn_credit`` transaction that names this record in ``metadata["action_ids"]``.

    It was posted in the transaction that credited the record, so not before ``credited_at``; its
    reference ``actions:<first>-<last>`` narrows the candidates before their metadata is read.
    """
    candidates = (
        LedgerTransaction.objects.filter(kind=earn_ledger.CREDIT_KIND)
        .order_by("created_at", "id")
        .only("id", "reference", "metadata")
    )
    if record.credited_at is not None:
        candidates = candidates.filter(created_at__gte=record.credited_at)
    for ledger_tx in candidates.iterator(chunk_size=200):
        first, _, last = ledger_tx.reference.removeprefix("actions:").partition("-")
        if first.isdigit() and last.isdigit() and not int(first) <= record.pk <= int(last):
            continue
        if record.pk in ledger_tx.metadata.get("action_ids", ()):
            return ledger_tx
    return None


def _grams_per_point(record: ActionRecord) -> int:
    conversion = (record.explanation or {}).get("conversion") or {}
    if conversion.get("grams_per_point"):
        return int(conversion["grams_per_point"])
    assert record.conversion_rule is not None, "credited records have their conversion rule"
    return int(record.conversion_rule.grams_per_point)


def _points_source(record: ActionRecord) -> AccountKey:
    """Where a reversal gives points back: the record's budget, else the general budget in force,
    else the issuance of the points of before budgets."""
    budget_id = record.budget_id
    if budget_id is None:
        general = general_budget()
        budget_id = general.pk if general is not None else None
    return (
        budget_ledger.BUDGET.of(budget_id) if budget_id is not None else earn_ledger.POINTS_ISSUANCE
    )


def _credited_reverse(record: ActionRecord, *, code: Reason, reason: str) -> dict[str, Any]:
    """Post the correcting transaction of a credited record; returns the figures it moved."""
    owner = record.account_id
    assert owner is not None, "credited records have their citizen"
    store.citizens_lock([owner])  # no crediting of this citizen meanwhile: carry and caps hold
    grams, points = record.credited_g or 0, record.points or 0
    gpp = _grams_per_point(record)
    tz = timezone.get_current_timezone()
    pool = pool_of(record.action, record.occurred_at, tz)
    # points go back where they came from: the budget that funded the record, else (a credit that
    # waited, whose own points were never issued, and whose carry takes others) the general budget
    waited = (
        record.budget_id is None
        and not record.points_settled
        and record.points_available_at is None
    )
    source = _points_source(record)
    keys, sources = postings.reversal_keys(owner=owner, pool=pool, points_source=source)
    refs = ledger_accounts_get_or_create(keys=keys)
    refs |= ledger_accounts_get_or_create(keys=sources, allow_negative=True)
    # the citizen's unposted accrual first: the split reads what they hold
    accrual_post(owner=owner, lock=[r.pk for r in refs.values()])
    # lock every account of the posting in key order (as transaction_post does) before reading
    # the balances the split depends on, so a concurrent spend cannot change them in between
    locked = {
        (a.kind, a.owner_id, a.unit): a
        for a in LedgerAccount.objects.select_for_update()
        .filter(pk__in=sorted(r.pk for r in refs.values()))
        .order_by("pk")
    }
    carried = store.carries([owner]).get(owner, 0)
    split = reversal_split(
        grams=grams,
        points=points,
        grams_per_point=gpp,
        pending=not record.points_settled,
        available=locked[citizen_ledger.POINTS.of(owner)].balance,
        carried=carried,
    )
    if grams and locked[pool].balance < grams:
        raise ClaimRetired(
            pool=pool.kind, vintage=pool.owner_id, needed_g=grams, held_g=locked[pool].balance
        )
    original = credit_transaction_of(record) if grams else None
    from_pending = 0 if waited else split.from_pending
    spec = postings.reversal_transaction(
        record_id=record.pk,
        corrections=record.corrections,
        owner=owner,
        pool=pool,
        grams=grams,
        from_available=split.from_available,
        from_pending=from_pending,
        points_source=source,
        code=code,
        reason=reason,
        accounts=locked,
    )
    posted = None
    if spec is not None:
        posted = transaction_post(
            kind=spec.kind,
            legs=spec.legs,
            idempotency_key=spec.idempotency_key,
            reference=spec.reference,
            memo=spec.memo,
            metadata=spec.metadata,
            corrects=original,
        )
    if split.carry_change_g:
        store.carries_save({owner: carried + split.carry_change_g})
    if record.counted_quantity:
        day = record.occurred_at.astimezone(tz).date()
        store.usage_add({(owner, record.action, day): -int(record.counted_quantity * MICRO)})
    record.points_settled = True  # nothing left pending to settle
    return {
        "grams": grams,
        "points_back": split.from_available + from_pending,
        "carried_g": split.carry_change_g,
        "transaction_id": posted.pk if posted else None,
        "corrects": original.pk if original else None,
    }


@transaction.atomic
def action_reverse(
    *,
    record: ActionRecord,
    operator: AbstractBaseUser | None,
    reason: str,
    code: Reason = Reason.REVERSED_BY_OPERATOR,
    partner: Partner | None = None,
) -> ActionRecord:
    """Reverse a credited action (or, on a partner's retraction, end one not credited yet).

    Idempotent in effect: a second reversal is refused with ``already_reversed``. Audited.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    record = (
        ActionRecord.objects.select_for_update(of=("self",))
        .select_related("conversion_rule")
        .get(pk=record.pk)
    )
    if operator is not None:
        authority_check(operator, record.region_id)  # a city's operator: their city's records
    if record.state == ActionState.REVERSED:
        raise AlreadyReversed(external_id=record.external_id)
    previous = record.state
    if previous == ActionState.CREDITED:
        figures = _credited_reverse(record, code=code, reason=reason)
    elif code == Reason.RETRACTED_BY_PARTNER and previous in ENDED_ON_RETRACTION:
        figures = {}
    else:
        raise NotReversible(state=previous)
    record.state, record.reason, record.updated_at = ActionState.REVERSED, code, timezone.now()
    explain(
        record,
        code,
        reason=reason,
        **{k: v for k, v in figures.items() if k in ("points_back", "carried_g")},
    )
    record.save(update_fields=["state", "reason", "updated_at", "explanation", "points_settled"])
    audit_record(
        actor=operator,
        action=f"earn.{code}",
        obj=record,
        details={
            "reason": reason,
            "previous_state": previous,
            **({"partner": partner.name} if partner is not None else {}),
            **figures,
        },
    )
    return record


@transaction.atomic
def action_correct(
    *,
    record: ActionRecord,
    quantity: Decimal,
    operator: AbstractBaseUser | None,
    reason: str,
    partner: Partner | None = None,
) -> ActionRecord:
    """A corrected quantity: the record is reversed, then decided again with it by the pipeline's
    rules (caps, carry and conversion as for any record), so the citizen keeps what the corrected
    quantity earns. Its explanation keeps the reversal and the correction."""
    if not quantity.is_finite() or not 0 < quantity < 10**14 or quantity != round(quantity, 6):
        raise QuantityInvalid(quantity=str(quantity))
    code = Reason.RETRACTED_BY_PARTNER if partner is not None else Reason.REVERSED_BY_OPERATOR
    reversed_ = action_reverse(
        record=record, operator=operator, reason=reason, code=code, partner=partner
    )
    before = reversed_.quantity
    explain(
        reversed_,
        Reason.CORRECTED,
        quantity=format(before.normalize(), "f"),
        corrected_quantity=format(quantity.normalize(), "f"),
        reason=reason.strip(),
    )
    ActionRecord.objects.filter(pk=reversed_.pk).update(
        quantity=quantity,
        state=ActionState.RECEIVED,
        reason="",
        explanation=reversed_.explanation,
        corrections=F("corrections") + 1,
        updated_at=timezone.now(),
    )
    key = postings.correct_key(record_id=reversed_.pk, corrections=reversed_.corrections + 1)
    runner.record_redecide(record_id=reversed_.pk, idempotency_key=key)
    corrected = ActionRecord.objects.get(pk=reversed_.pk)
    audit_record(
        actor=operator,
        action="earn.action_correct",
        obj=corrected,
        details={
            "reason": reason,
            "quantity": before,
            "corrected_quantity": quantity,
            "state": corrected.state,
            **({"partner": partner.name} if partner is not None else {}),
        },
    )
    return corrected


def action_retract(*, partner: Partner, external_id: str, reason: str) -> ActionRecord:
    """A partner takes back one of its own records: reversed, or ended when not credited yet."""
    from .exceptions import RecordNotFound

    record = ActionRecord.objects.filter(partner=partner, external_id=external_id).first()
    if record is None:
        raise RecordNotFound()
    return action_reverse(
        record=record,
        operator=None,
        reason=reason,
        code=Reason.RETRACTED_BY_PARTNER,
        partner=partner,
    )


def action_correct_by_partner(
    *, partner: Partner, external_id: str, quantity: Decimal, reason: str
) -> ActionRecord:
    """A partner corrects the quantity of one of its own records."""
    from .exceptions import RecordNotFound

    record = ActionRecord.objects.filter(partner=partner, external_id=external_id).first()
    if record is None:
        raise RecordNotFound()
    return action_correct(
        record=record, quantity=quantity, operator=None, reason=reason, partner=partner
    )
