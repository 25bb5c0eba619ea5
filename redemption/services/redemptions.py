"""Writes of redemptions: points spent on a voucher or a donation, and refunded."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.models import CarbonAccount, User
from carbonpoints.bulk import insert_parts
from carbonpoints.ledger.services import transaction_reverse

from .. import exceptions as refusals
from ..idempotency import idempotent_answer
from ..ledger_accounts import DONATION_POINTS, MERCHANT_POINTS
from ..models import IdempotentAnswer, Merchant, Redemption, Scenario, Voucher
from ..selectors import SCENARIO_READ_S, scenario_to_redeem
from ._common import _lock, _spend
from .scenarios import _check_limits, _has_limits, _return_stock, scenario_is_open
from .stock_gate import stock_gate_admit

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: typed at the till
VOUCHER_CODE_LENGTH = 16  # 80 random bits: unguessable


def _voucher_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(VOUCHER_CODE_LENGTH))


def redemption_scenario(*, scenario_id: int, recent: bool = False) -> Scenario:
    """The scenario as read now, or the refusal it gives anyone: not found, unavailable, sold out.

    Read without a lock: a sold-out count read here is final for this attempt (stock that comes
    back later is for later attempts), and a positive one is decided by the stock UPDATE.

    ``recent``: the row may come from this process's memory (``SCENARIO_READ_S``), for a caller
    that writes with ``_redemption_write`` (which checks the status, the dates, the merchant and
    the stock again, under the statement that takes the stock). A refusal is never answered
    from memory: the row is read again first.
    """
    scenario = scenario_to_redeem(
        scenario_id=scenario_id, max_age_s=SCENARIO_READ_S if recent else 0.0
    )
    refusal = _refusal(scenario)
    if refusal is not None and recent:
        scenario = scenario_to_redeem(scenario_id=scenario_id)
        refusal = _refusal(scenario)
    if refusal is not None:
        raise refusal
    assert scenario is not None
    return scenario


def _refusal(scenario: Scenario | None) -> refusals.SpendRefused | None:
    if scenario is None:
        return refusals.ScenarioNotFound()
    if scenario.kind == Scenario.Kind.POINTS_OFFSET or not scenario_is_open(scenario):
        return refusals.ScenarioUnavailable(status=scenario.status)
    if scenario.stock is not None and (scenario.stock_left or 0) <= 0:
        return refusals.OutOfStock()
    return None


def redemption_redeem_once(
    *,
    user: User,
    citizen: CarbonAccount,
    scenario_id: int,
    idempotency_key: str,
    answer: Callable[[Redemption], dict[str, Any]],
) -> tuple[int, dict[str, Any]]:
    """A citizen's redemption as the app and the portal ask for it: ``(status, body)``, answered
    once per idempotency key (a retry gets the first answer, ``answer`` makes the body of a sale).

    Behind the scenario's stock gate: once the stock is gone, ``out_of_stock`` is raised from
    Redis alone. The refusals that need no lock are checked before the key is claimed; the sale
    keeps its answer in the statement that takes the stock (see ``redemption_create``).
    """
    read: dict[str, Scenario] = {}

    def check() -> None:
        read["scenario"] = redemption_scenario(scenario_id=scenario_id, recent=True)

    with stock_gate_admit(scenario_id=scenario_id, citizen_id=citizen.pk) as admission:

        def redeem(keep: KeepsAnswer) -> None:
            redemption_create(
                citizen=citizen,
                scenario_id=scenario_id,
                idempotency_key=idempotency_key,
                key_claimed=True,
                keep=keep,
                answer=answer,
                scenario=read["scenario"],
            )
            admission.sold = True

        status, body = idempotent_answer(
            user=user,
            scope="redemption",
            key=idempotency_key,
            params={"scenario_id": scenario_id},
            action=redeem,
            check=check,
        )
        admission.settle(
            out_of_stock=status == 409 and body["error"]["code"] == refusals.OutOfStock.code
        )
    return status, body


class KeepsAnswer(Protocol):
    """``idempotency.AnswerKeeper`` as seen here: the answer's row, and what was written to it."""

    answer_id: int
    may_commit: bool

    def kept_as(self, status: int, body: dict[str, Any]) -> None: ...


def redemption_create(
    *,
    citizen: CarbonAccount,
    scenario_id: int,
    idempotency_key: str,
    key_claimed: bool = False,
    keep: KeepsAnswer | None = None,
    answer: Callable[[Redemption], dict[str, Any]] | None = None,
    scenario: Scenario | None = None,
) -> Redemption:
    """Spend the points, issue the voucher (or donate) and take one unit of stock, all or nothing.

    The ledger reserves the citizen's points first (it refuses an overdraft); the stock is taken
    last, by a conditional UPDATE, so a flash sale's shared stock row is locked only from that
    statement to the commit. Stock gone after the points were reserved rolls the whole attempt
    back: nothing is spent. The citizen's
    carbon-account row is locked first only when the scenario limits uses per citizen, so that
    two redemptions of one citizen count each other; otherwise the ledger's lock on the
    citizen's points is all a citizen needs.

    A retry with the same key answers with the first redemption. ``key_claimed`` says the
    caller is ``idempotent_answer``: it made sure this key runs once (so the look-up of an earlier
    redemption and the citizen lock that look-up needs are spared), and it rolls back the whole
    attempt on a refusal (so no savepoint is needed here). With ``keep`` and ``answer`` the
    caller's answer (``answer(redemption)``, a 201 body whose ``id`` the database fills in) is
    kept by the statement that writes the redemption and its voucher and takes the stock: one
    statement, the last before the commit, so the hot stock row is locked from it to the commit
    only. ``scenario``: the caller read it with ``redemption_scenario`` already (before claiming
    its key), so it is not read twice.
    """
    spend_key = f"redeem:{citizen.pk}:{idempotency_key}"
    with transaction.atomic(savepoint=not key_claimed):
        if not key_claimed:
            _lock(CarbonAccount.objects.filter(pk=citizen.pk))
            earlier = Redemption.objects.filter(
                citizen=citizen, spend_tx__idempotency_key=spend_key
            ).first()
            if earlier is not None:  # a retry: the first redemption, not a second one
                return earlier
        if scenario is None or scenario.pk != scenario_id:
            scenario = redemption_scenario(scenario_id=scenario_id)
        if _has_limits(scenario):
            if key_claimed:
                _lock(CarbonAccount.objects.filter(pk=citizen.pk))
            used = Redemption.objects.filter(citizen=citizen, scenario=scenario).exclude(
                status=Redemption.Status.REFUNDED
            )
            _check_limits(scenario=scenario, used=used)
        assert scenario.points_cost is not None  # vouchers and donations have a cost (model check)
        donation = scenario.kind == Scenario.Kind.DONATION
        spend_tx = _spend(
            citizen_id=citizen.pk,
            to=DONATION_POINTS if donation else MERCHANT_POINTS,
            owner_id=scenario.merchant_id,
            points=scenario.points_cost,
            kind="donation" if donation else "redemption",
            key=spend_key,
            reference=f"scenario:{scenario.pk}",
        )
        redemption = Redemption(
            scenario=scenario,
            citizen=citizen,
            points_spent=scenario.points_cost,
            spend_tx=spend_tx,
            status=Redemption.Status.DONATED if donation else Redemption.Status.ISSUED,
        )
        voucher = None
        if not donation:
            expires_at = timezone.now() + timedelta(days=scenario.voucher_valid_days)
            if scenario.valid_until:
                expires_at = max(
                    min(expires_at, scenario.valid_until), timezone.now() + timedelta(hours=1)
                )
            voucher = Voucher(code=_voucher_code(), expires_at=expires_at)
        kept = (keep, answer) if keep is not None and answer is not None else None
        _redemption_write(redemption, voucher, scenario=scenario, kept=kept)
    return redemption


def _redemption_write(
    redemption: Redemption,
    voucher: Voucher | None,
    *,
    scenario: Scenario,
    kept: tuple[KeepsAnswer, Callable[[Redemption], dict[str, Any]]] | None,
) -> None:
    """The redemption, its voucher, the caller's answer and one unit of stock, or the refusal.

    One statement (a data-modifying WITH) writes them all, the stock UPDATE first
    and every insert from its row: no stock, nothing written. It comes after the ledger's
    statements (the same lock order as a refund: ledger accounts, then the stock row), so a
    flash sale's shared stock row is locked from this statement to the commit only.
    """
    # Still open, under this statement: the caller's read may be a few seconds old
    # (``redemption_scenario(recent=True)``), so the status, the dates and the merchant's
    # status that ``scenario_is_open`` checked are checked again here.
    scenarios, now = Scenario._meta.db_table, timezone.now()
    still_open = (
        f"{scenarios}.id = %s AND {scenarios}.status = %s AND {scenarios}.valid_from <= %s "
        f"AND ({scenarios}.valid_until IS NULL OR {scenarios}.valid_until > %s) "
        f"AND EXISTS (SELECT 1 FROM {Merchant._meta.db_table} m "
        f"WHERE m.id = {scenarios}.merchant_id AND m.status = %s)"
    )
    params: list[Any] = [scenario.pk, Scenario.Status.LIVE, now, now, Merchant.Status.APPROVED]
    if scenario.stock is None:
        sql = f"WITH s AS (SELECT id FROM {scenarios} WHERE {still_open})"
    else:
        sql = (
            f"WITH s AS (UPDATE {scenarios} SET stock_left = stock_left - 1 "
            f"WHERE {still_open} AND stock_left > 0 RETURNING id)"
        )
    r_table, r_columns, r_params = insert_parts(redemption)
    sql += f", r AS (INSERT INTO {r_table} ({r_columns}) SELECT {_marks(r_params)} FROM s RETURNING id)"
    params += r_params
    if voucher is not None:
        voucher.redemption_id = 0  # the statement puts the new redemption's id in
        v_table, v_columns, v_params = insert_parts(voucher, exclude=["redemption"])
        sql += (
            f", v AS (INSERT INTO {v_table} (redemption_id, {v_columns}) "
            f"SELECT r.id, {_marks(v_params)} FROM r RETURNING id)"
        )
        params += v_params
    body: dict[str, Any] = {}
    if kept is not None:
        keep, answer = kept
        redemption.voucher = voucher  # what the answer shows; its id is not part of it
        body = dict(answer(redemption))
        answer_field = IdempotentAnswer._meta.get_field("body")
        sql += (
            f", a AS (UPDATE {IdempotentAnswer._meta.db_table} SET status_code = 201, "
            "body = %s || jsonb_build_object('id', r.id) FROM r WHERE "
            f"{IdempotentAnswer._meta.db_table}.id = %s RETURNING 1)"
        )
        params += [answer_field.get_db_prep_save(body, connection), keep.answer_id]
    voucher_id = "(SELECT id FROM v)" if voucher is not None else "NULL"
    # With the commit in it: the sale's statement and its COMMIT go in one round trip, so the
    # hot stock row is held for PostgreSQL's own work (the statement, the commit's WAL flush)
    # and no longer also until this worker's thread gets the GIL and the CPU back to send the
    # COMMIT. No unit of stock must then write nothing: the statement fails
    # (``redemption_no_unit()``), the COMMIT after it does not run, and the attempt rolls back.
    commit = kept is not None and kept[0].may_commit and _only_outermost_transaction()
    if commit:
        sql += f" SELECT coalesce((SELECT id FROM r), redemption_no_unit()), {voucher_id}; COMMIT"
    else:
        sql += f" SELECT r.id, {voucher_id} FROM r"
    with connection.cursor() as cursor:
        try:
            cursor.execute(sql, params)
        except DatabaseError as error:
            if commit and _no_unit(error):  # rolled back: the scenario is read after it
                raise refusals.OutOfStock(recheck=lambda: _refusal_now(scenario.pk)) from None
            raise
        row = cursor.fetchone()
    if row is None:  # the refusal the scenario gives now (read again), else the stock is gone
        redemption_scenario(scenario_id=scenario.pk)
        raise refusals.OutOfStock()
    redemption.pk = row[0]
    redemption._state.adding, redemption._state.db = False, connection.alias
    if voucher is not None:
        voucher.pk = row[1]
        voucher.redemption = redemption
        voucher._state.adding, voucher._state.db = False, connection.alias
    if kept is not None:
        kept[0].kept_as(201, {**body, "id": redemption.pk})


def _only_outermost_transaction() -> bool:
    """Inside the outermost atomic block, with no savepoint: a COMMIT ends this attempt's work
    and nobody else's (Django's own commit at the block's end then finds nothing to commit)."""
    return bool(
        connection.in_atomic_block
        and all(savepoint is None for savepoint in connection.savepoint_ids)  # None: no savepoint
        and not connection.needs_rollback
    )


def _no_unit(error: DatabaseError) -> bool:
    """The sale's statement found no unit of stock (``redemption_no_unit()`` raised)."""
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "message_primary", None) == NO_UNIT


NO_UNIT = "redemption_no_unit"
"""The message of ``redemption_no_unit()`` (migration 0006)."""


def _refusal_now(scenario_id: int) -> refusals.SpendRefused | None:
    try:
        redemption_scenario(scenario_id=scenario_id)
    except refusals.SpendRefused as refusal:
        return refusal
    return None


def _marks(params: list[Any]) -> str:
    return ", ".join(["%s"] * len(params))


def _refund(*, redemption: Redemption, memo: str, give_back_stock: bool) -> None:
    """Return the points of an unconsumed voucher with a new ledger transaction; caller holds the lock.

    The ledger first, the stock last: the same lock order as a redemption (ledger accounts, then
    the scenario's stock row), so the two never deadlock.
    """
    redemption.refund_tx = transaction_reverse(
        original=redemption.spend_tx,
        idempotency_key=f"refund:redemption:{redemption.pk}",
        memo=memo,
    )
    redemption.status = Redemption.Status.REFUNDED
    redemption.save(update_fields=["refund_tx", "status"])
    if give_back_stock:
        _return_stock(redemption.scenario)


def redemption_refund_cancelled(*, redemption_id: int) -> bool:
    """Refund an unconsumed voucher of a cancelled scenario; safe to run twice.

    The voucher row is locked first, as when consuming, so a voucher is never both consumed
    at the till and refunded.
    """
    with transaction.atomic():
        voucher = Voucher.objects.select_for_update().filter(redemption_id=redemption_id).first()
        if voucher is not None and voucher.consumed_at:
            return False
        redemption = (
            Redemption.objects.select_for_update(of=("self",))
            .select_related("scenario")
            .filter(pk=redemption_id, status=Redemption.Status.ISSUED)
            .first()
        )
        if redemption is None or redemption.scenario.status != Scenario.Status.CANCELLED:
            return False
        _refund(redemption=redemption, memo="scenario cancelled", give_back_stock=False)
    return True
