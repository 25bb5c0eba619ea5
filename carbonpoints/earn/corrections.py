"""Corrections of credited actions: an operator's reversal and a partner's retraction.

Nothing is edited: a reversal posts a correcting ledger transaction that references the batch's
``earn_credit`` transaction and moves back exactly this action's share (its grams, its pool
claim, its points), leaving the citizen as if it had never been credited. Points come back from
the citizen's pending or available points first; what they no longer hold becomes a negative carry that future credits pay off before they earn points,
so no balance ever goes below zero. The record ends in state ``reversed`` with the reason in its
explanation, so the citizen sees why.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from accounts import ledger_accounts as citizen_ledger
from carbonpoints.audit.services import audit_record
from carbonpoints.budgets import ledger_accounts as budget_ledger
from carbonpoints.ledger.keys import AccountKey
from carbonpoints.ledger.models import LedgerAccount, LedgerTransaction
from carbonpoints.ledger.services import Leg, ledger_accounts_get_or_create, transaction_post

from . import ledger_accounts as earn_ledger
from .exceptions import (
    AlreadyReversed,
    ClaimRetired,
    NotReversible,
    QuantityInvalid,
    ReasonRequired,
)
from .models import ActionRecord, ActionState, Partner
from .pipeline import runner, store
from .pipeline.rules import MICRO, explain

REVERSE_KIND = "earn_reversal"
BY_OPERATOR = "reversed_by_operator"
BY_PARTNER = "retracted_by_partner"

ENDED_ON_RETRACTION = (ActionState.RECEIVED, ActionState.QUANTIFIED, ActionState.UNLINKED, ActionState.FLAGGED)
"""States a partner's retraction simply ends: nothing was credited, nothing is counted."""


@dataclass(frozen=True)
class Split:
    """Where a reversal takes a record's points from, and what it does to the carry."""

    from_pending: int
    from_available: int
    carry_change_g: int
    """Added to the citizen's carried remainder: negative when points are owed."""


def reversal_split(*, grams: int, points: int, grams_per_point: int, pending: bool, available: int,
                   carried: int) -> Split:
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
    return Split(from_pending=from_pending, from_available=from_available,
                 carry_change_g=short_g + from_available * grams_per_point - carried)


def credit_transaction_of(record: ActionRecord) -> LedgerTransaction | None:
    """The batch's ``earn_credit`` transaction that names this record in ``metadata["action_ids"]``.

    It was posted in the transaction that credited the record, so not before ``credited_at``; its
    reference ``actions:<first>-<last>`` narrows the candidates before their metadata is read.
    """
    candidates = (LedgerTransaction.objects.filter(kind=earn_ledger.CREDIT_KIND)
                  .order_by("created_at", "id").only("id", "reference", "metadata"))
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


CODES = (BY_OPERATOR, BY_PARTNER)


def _times(record: ActionRecord, codes: tuple[str, ...]) -> int:
    """How often the record went through these corrections before (a corrected record may be again)."""
    return sum(1 for rule in (record.explanation or {}).get("rules", ()) if rule["code"] in codes)


def _credited_reverse(record: ActionRecord, *, code: str, reason: str) -> dict[str, Any]:
    """Post the correcting transaction of a credited record; returns the figures it moved."""
    owner = record.account_id
    assert owner is not None, "credited records have their citizen"
    store.citizens_lock([owner])  # no crediting of this citizen meanwhile: carry and caps hold
    grams, points = record.credited_g or 0, record.points or 0
    gpp = _grams_per_point(record)
    local = timezone.localtime(record.occurred_at)
    pool = citizen_ledger.pool_account(methodology_code=record.action, vintage_year=local.year,
                                       vintage_month=local.month)
    # points go back where they came from: the budget that funded them (points of credits that
    # waited for funding were never issued, so none of them come back)
    waited = record.budget_id is None and not record.points_settled and record.points_available_at is None
    source = budget_ledger.BUDGET.of(record.budget_id) if record.budget_id else earn_ledger.POINTS_ISSUANCE
    keys: list[AccountKey] = [citizen_ledger.REDUCTION.of(owner), citizen_ledger.POINTS.of(owner),
                              citizen_ledger.POINTS_PENDING.of(owner), pool]
    refs = ledger_accounts_get_or_create(keys=keys + ([source] if record.budget_id else []))
    refs |= ledger_accounts_get_or_create(keys=list(earn_ledger.SOURCES), allow_negative=True)
    # lock every account of the posting in key order (as transaction_post does) before reading
    # the balances the split depends on, so a concurrent spend cannot change them in between
    locked = {(a.kind, a.owner_id, a.unit): a for a in LedgerAccount.objects.select_for_update()
              .filter(pk__in=sorted(r.pk for r in refs.values())).order_by("pk")}
    carried = store.carries([owner]).get(owner, 0)
    split = reversal_split(grams=grams, points=points, grams_per_point=gpp, pending=not record.points_settled,
                           available=locked[citizen_ledger.POINTS.of(owner)].balance, carried=carried)
    if grams and locked[pool].balance < grams:
        raise ClaimRetired(pool=pool.kind, vintage=pool.owner_id, needed_g=grams, held_g=locked[pool].balance)
    original = credit_transaction_of(record) if grams else None
    from_pending = 0 if waited else split.from_pending
    moves = [
        (citizen_ledger.REDUCTION.of(owner), -grams), (earn_ledger.GRAMS_ISSUANCE, grams),
        (pool, -grams), (earn_ledger.CLAIM_ISSUANCE, grams),
        (citizen_ledger.POINTS.of(owner), -split.from_available),
        (citizen_ledger.POINTS_PENDING.of(owner), -from_pending),
        (source, split.from_available + from_pending),
    ]
    legs = [Leg(locked[key], amount) for key, amount in moves if amount]
    posted = None
    if legs:
        posted = transaction_post(
            kind=REVERSE_KIND, legs=legs, idempotency_key=f"earn:reverse:{record.pk}:{_times(record, CODES)}",
            reference=f"action:{record.pk}", memo=f"{code}: {reason}"[:255],
            metadata={"action_ids": [record.pk], "code": code, "reason": reason}, corrects=original,
        )
    if split.carry_change_g:
        store.carries_save({owner: carried + split.carry_change_g})
    if record.counted_quantity:
        store.usage_add({(owner, record.action, local.date()): -int(record.counted_quantity * MICRO)})
    record.points_settled = True  # nothing left pending to settle
    return {"grams": grams, "points_back": split.from_available + from_pending,
            "carried_g": split.carry_change_g, "transaction_id": posted.pk if posted else None,
            "corrects": original.pk if original else None}


@transaction.atomic
def action_reverse(*, record: ActionRecord, operator: AbstractBaseUser | None, reason: str,
                   code: str = BY_OPERATOR, partner: Partner | None = None) -> ActionRecord:
    """Reverse a credited action (or, on a partner's retraction, end one not credited yet).

    Idempotent in effect: a second reversal is refused with ``already_reversed``. Audited.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    record = ActionRecord.objects.select_for_update(of=("self",)).select_related("conversion_rule").get(pk=record.pk)
    if record.state == ActionState.REVERSED:
        raise AlreadyReversed(external_id=record.external_id)
    previous = record.state
    if previous == ActionState.CREDITED:
        figures = _credited_reverse(record, code=code, reason=reason)
    elif code == BY_PARTNER and previous in ENDED_ON_RETRACTION:
        figures = {}
    else:
        raise NotReversible(state=previous)
    record.state, record.reason, record.updated_at = ActionState.REVERSED, code, timezone.now()
    explain(record, code, reason=reason, **{k: v for k, v in figures.items()
                                               if k in ("points_back", "carried_g")})
    record.save(update_fields=["state", "reason", "updated_at", "explanation", "points_settled"])
    audit_record(actor=operator, action=f"earn.{code}", obj=record,
                 details={"reason": reason, "previous_state": previous,
                          **({"partner": partner.name} if partner is not None else {}), **figures})
    return record


@transaction.atomic
def action_correct(*, record: ActionRecord, quantity: Decimal, operator: AbstractBaseUser | None, reason: str,
                   partner: Partner | None = None) -> ActionRecord:
    """A corrected quantity: the record is reversed, then decided again with it by the pipeline's
    rules (caps, carry and conversion as for any record), so the citizen keeps what the corrected
    quantity earns. Its explanation keeps the reversal and the correction."""
    if not quantity.is_finite() or not 0 < quantity < 10**14 or quantity != round(quantity, 6):
        raise QuantityInvalid(quantity=str(quantity))
    code = BY_PARTNER if partner is not None else BY_OPERATOR
    reversed_ = action_reverse(record=record, operator=operator, reason=reason, code=code, partner=partner)
    before = reversed_.quantity
    explain(reversed_, "corrected", quantity=format(before.normalize(), "f"),
               corrected_quantity=format(quantity.normalize(), "f"), reason=reason.strip())
    n = _times(reversed_, ("corrected",))
    ActionRecord.objects.filter(pk=reversed_.pk).update(
        quantity=quantity, state=ActionState.RECEIVED, reason="", explanation=reversed_.explanation,
        updated_at=timezone.now())
    runner.record_redecide(record_id=reversed_.pk, idempotency_key=f"earn:correct:{reversed_.pk}:{n}")
    corrected = ActionRecord.objects.get(pk=reversed_.pk)
    audit_record(actor=operator, action="earn.action_correct", obj=corrected,
                 details={"reason": reason, "quantity": before, "corrected_quantity": quantity,
                          "state": corrected.state, **({"partner": partner.name} if partner is not None else {})})
    return corrected


def action_retract(*, partner: Partner, external_id: str, reason: str) -> ActionRecord:
    """A partner takes back one of its own records: reversed, or ended when not credited yet."""
    from .exceptions import RecordNotFound

    record = ActionRecord.objects.filter(partner=partner, external_id=external_id).first()
    if record is None:
        raise RecordNotFound()
    return action_reverse(record=record, operator=None, reason=reason, code=BY_PARTNER, partner=partner)


def action_correct_by_partner(*, partner: Partner, external_id: str, quantity: Decimal,
                              reason: str) -> ActionRecord:
    """A partner corrects the quantity of one of its own records."""
    from .exceptions import RecordNotFound

    record = ActionRecord.objects.filter(partner=partner, external_id=external_id).first()
    if record is None:
        raise RecordNotFound()
    return action_correct(record=record, quantity=quantity, operator=None, reason=reason, partner=partner)
