"""Writes of the spend side: merchants and staff, scenarios, redemptions, vouchers, the till, settlements.

Every movement of points goes through the ledger's ``transaction_post`` (citizen POINTS → the
merchant's account) and every refund is a new transaction that references the original. The
rows written here only say what the points bought.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.ledger_accounts import POINTS
from accounts.models import CarbonAccount, Role, User
from carbonpoints.approvals import approver_check, operator_check
from carbonpoints.audit.services import audit_record
from carbonpoints.budgets import selectors as budget_selectors
from carbonpoints.bulk import insert_parts
from carbonpoints.ledger.exceptions import InsufficientBalance
from carbonpoints.ledger.models import LedgerAccount, LedgerTransaction, Posting
from carbonpoints.ledger.services import (
    AccountRef,
    Leg,
    ledger_accounts_get_or_create,
    transaction_post,
    transaction_reverse,
)

from . import exceptions as refusals
from .ledger_accounts import (
    DONATION_POINTS,
    MERCHANT_POINTS,
    MERCHANT_SETTLED,
    receiving_account_key,
)
from .models import (
    Checkout,
    Merchant,
    MerchantStaff,
    PaymentCode,
    Redemption,
    Scenario,
    Settlement,
    SettlementLine,
    Voucher,
)
from .selectors import voucher_code_normalize

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: typed at the till
VOUCHER_CODE_LENGTH = 16  # 80 random bits: unguessable


def _new_password() -> str:
    return secrets.token_urlsafe(12)


def _local_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def _lock(rows: QuerySet[Any]) -> None:
    """``SELECT … FOR UPDATE`` these rows until the transaction ends."""
    list(rows.select_for_update().values_list("pk", flat=True))


# --- merchants and staff ---------------------------------------------------------------------


@transaction.atomic
def merchant_create(
    *, name: str, manager_email: str, status: str = Merchant.Status.APPROVED
) -> tuple[Merchant, str]:
    """A merchant with its first manager; returns the manager's one-time password."""
    merchant = Merchant.objects.create(name=name, status=status)
    _, password = staff_add(merchant=merchant, email=manager_email, role=MerchantStaff.Role.MANAGER)
    return merchant, password


def merchant_draft(*, name: str, manager_email: str, author: User) -> tuple[Merchant, str]:
    """A merchant drafted by an operator (pending): its staff sell nothing until another
    operator approves it. Returns the first manager's one-time password."""
    operator_check(author)
    with transaction.atomic():
        merchant, password = merchant_create(name=name, manager_email=manager_email, status=Merchant.Status.PENDING)
        Merchant.objects.filter(pk=merchant.pk).update(written_by=author)
        merchant.written_by = author
        audit_record(actor=author, action="merchant.draft_create", obj=merchant)
    return merchant, password


def merchant_approve(*, merchant: Merchant, approver: User) -> Merchant:
    """Four eyes: another operator approves a pending merchant, which is then in force."""
    with transaction.atomic():
        merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
        if merchant.status != Merchant.Status.PENDING:
            raise refusals.MerchantNotPending(status=merchant.status)
        approver_check(written_by_id=merchant.written_by_id, approver=approver)
        merchant.status, merchant.approved_by, merchant.approved_at = (
            Merchant.Status.APPROVED, approver, timezone.now())
        merchant.save(update_fields=["status", "approved_by", "approved_at"])
        audit_record(actor=approver, action="merchant.approve", obj=merchant,
                     details={"written_by": merchant.written_by_id})
    return merchant


def merchant_status_set(*, merchant: Merchant, status: str, actor: User) -> Merchant:
    """Suspend (retire) a merchant or reinstate it; audited."""
    operator_check(actor)
    with transaction.atomic():
        was = merchant.status
        merchant.status = status
        merchant.save(update_fields=["status"])
        audit_record(actor=actor, action="merchant.status_set", obj=merchant, details={"from": was, "to": status})
    return merchant


@transaction.atomic
def staff_add(
    *, merchant: Merchant, email: str, role: str = MerchantStaff.Role.CASHIER, password: str | None = None,
    actor: User | None = None,
) -> tuple[MerchantStaff, str]:
    """A new sign-in for the merchant's till or office; returns its password (shown once).

    Added by a manager (``actor``): recorded in the audit trail."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("This e-mail address has an account already.")})
    if role not in MerchantStaff.Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    password = password or _new_password()
    user = User.objects.create_user(  # type: ignore[no-untyped-call]  # our manager's, untyped
        email=email, password=password, role=Role.MERCHANT_STAFF
    )
    member = MerchantStaff.objects.create(merchant=merchant, user=user, role=role)
    if actor is not None:
        audit_record(actor=actor, action="merchant.staff_add", obj=member,
                     details={"merchant_id": merchant.pk, "role": role, "user_id": user.pk})
    return member, password


# --- scenarios -------------------------------------------------------------------------------


def _scenario_check(scenario: Scenario) -> None:
    errors = {}
    if scenario.kind in (Scenario.Kind.VOUCHER, Scenario.Kind.DONATION):
        if not scenario.points_cost:
            errors["points_cost"] = _("A voucher or donation scenario needs a points cost.")
    if scenario.kind == Scenario.Kind.POINTS_OFFSET:
        if not scenario.points_per_yuan:
            errors["points_per_yuan"] = _("Say how many points make one yuan.")
        if not scenario.max_share_bp:
            errors["max_share"] = _("Say which share of a price points may pay (0 < share ≤ 1).")
    if scenario.valid_until and scenario.valid_until <= scenario.valid_from:
        errors["valid_until"] = _("The end must come after the start.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def scenario_create(
    *,
    merchant: Merchant,
    kind: str,
    title: str,
    description: str = "",
    points_cost: int | None = None,
    points_per_yuan: int | None = None,
    max_share_bp: int | None = None,
    stock: int | None = None,
    per_citizen_limit: int | None = None,
    per_citizen_daily_limit: int | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    voucher_valid_days: int = 30,
    actor: User | None = None,
) -> Scenario:
    """A new scenario: live at once, or waiting for an operator when review is switched on.

    Created by a manager (``actor``): recorded in the audit trail."""
    review = settings.REDEMPTION_SCENARIO_REVIEW
    scenario = Scenario(
        merchant=merchant, kind=kind, title=title, description=description,
        points_cost=points_cost, points_per_yuan=points_per_yuan, max_share_bp=max_share_bp,
        stock=stock, stock_left=stock, per_citizen_limit=per_citizen_limit,
        per_citizen_daily_limit=per_citizen_daily_limit, valid_from=valid_from or timezone.now(),
        valid_until=valid_until, voucher_valid_days=voucher_valid_days,
        status=Scenario.Status.PENDING_REVIEW if review else Scenario.Status.LIVE,
    )
    scenario.full_clean()
    _scenario_check(scenario)
    scenario.save()
    if actor is not None:
        audit_record(actor=actor, action="merchant.scenario_create", obj=scenario,
                     details={"merchant_id": merchant.pk, "kind": kind, "status": scenario.status})
    return scenario


_TRANSITIONS = {
    "pause": ({Scenario.Status.LIVE}, Scenario.Status.PAUSED),
    "resume": ({Scenario.Status.PAUSED}, Scenario.Status.LIVE),
    "approve": ({Scenario.Status.PENDING_REVIEW, Scenario.Status.REJECTED}, Scenario.Status.LIVE),
    "reject": ({Scenario.Status.PENDING_REVIEW}, Scenario.Status.REJECTED),
    "cancel": (
        {Scenario.Status.LIVE, Scenario.Status.PAUSED, Scenario.Status.PENDING_REVIEW},
        Scenario.Status.CANCELLED,
    ),
}


def scenario_transition(*, scenario: Scenario, action: str, actor: User | None = None) -> Scenario:
    """Pause, resume, cancel (merchant) or approve, reject (operator), as a compare-and-set.

    Cancelling refunds every voucher not yet consumed, in a task after the commit. A manager's
    change (``actor``) is recorded in the audit trail (the admin records the operators').
    """
    allowed, target = _TRANSITIONS[action]
    with transaction.atomic():
        changed = Scenario.objects.filter(pk=scenario.pk, status__in=allowed).update(status=target)
        if not changed:
            raise refusals.ScenarioStateConflict(action=action, status=scenario.status)
        if target == Scenario.Status.CANCELLED:
            from .tasks import refund_cancelled_scenario

            refund_cancelled_scenario.delay_on_commit(scenario.pk)
        if actor is not None:
            audit_record(actor=actor, action=f"merchant.scenario_{action}", obj=scenario,
                         details={"merchant_id": scenario.merchant_id, "from": scenario.status, "to": target})
    scenario.refresh_from_db()
    return scenario


def scenario_is_open(scenario: Scenario, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        scenario.status == Scenario.Status.LIVE
        and scenario.merchant.status == Merchant.Status.APPROVED
        and scenario.valid_from <= now
        and (scenario.valid_until is None or scenario.valid_until > now)
    )


def _check_limits(*, scenario: Scenario, used: QuerySet[Any]) -> None:
    """``used`` is the citizen's non-refunded uses of the scenario (a queryset with created_at).

    Both limits are counted by one query; the caller holds the citizen's lock.
    """
    total, daily = scenario.per_citizen_limit, scenario.per_citizen_daily_limit
    if total is None and daily is None:
        return
    start, end = _local_day_bounds(timezone.localdate())
    counts = used.aggregate(total=Count("pk"), today=Count("pk", filter=Q(created_at__gte=start, created_at__lt=end)))
    if total is not None and counts["total"] >= total:
        raise refusals.LimitReached(limit=total, period="total")
    if daily is not None and counts["today"] >= daily:
        raise refusals.LimitReached(limit=daily, period="day")


def _has_limits(scenario: Scenario) -> bool:
    return scenario.per_citizen_limit is not None or scenario.per_citizen_daily_limit is not None


def _take_stock(scenario: Scenario) -> None:
    """One unit of stock, or ``out_of_stock``: a conditional UPDATE, so it never oversells.

    Callers take it as their last write, after the citizen's points are reserved by the
    ledger: the scenario's stock row is the one every buyer of a flash sale shares, and a row
    changed by an UPDATE stays locked until the commit. Taken last, it is held for one
    statement and the commit, instead of for the whole spend. When the stock is gone the
    refusal rolls the reserved points back with the rest of the attempt.
    """
    if scenario.stock is None:
        return
    if not Scenario.objects.filter(pk=scenario.pk, stock_left__gt=0).update(stock_left=F("stock_left") - 1):
        raise refusals.OutOfStock()


def _return_stock(scenario: Scenario) -> None:
    if scenario.stock is not None:
        Scenario.objects.filter(pk=scenario.pk).update(stock_left=F("stock_left") + 1)


def _spend(*, citizen_id: int, to: tuple[str, str], owner_id: int, points: int, kind: str, key: str,
           reference: str) -> LedgerTransaction:
    """Move ``points`` from the citizen's POINTS to the merchant's ``to`` account (its shard for this citizen)."""
    wallet, receiving = _spend_accounts(
        citizen_id=citizen_id, to=receiving_account_key(to, citizen_id), owner_id=owner_id
    )
    try:
        return transaction_post(
            kind=kind, legs=[Leg(wallet, -points), Leg(receiving, points)], idempotency_key=key, reference=reference,
        )
    except InsufficientBalance as refused:
        raise refusals.InsufficientPoints(needed=points, available=refused.available) from refused


def _spend_accounts(*, citizen_id: int, to: tuple[str, str], owner_id: int) -> tuple[AccountRef, AccountRef]:
    """The citizen's POINTS and the receiving account: one query, no model instances."""
    wallet, receiving = (POINTS[0], citizen_id, POINTS[1]), (to[0], owner_id, to[1])
    accounts = ledger_accounts_get_or_create(keys=[wallet, receiving])
    return accounts[wallet], accounts[receiving]


# --- redemptions and vouchers ----------------------------------------------------------------


def _voucher_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(VOUCHER_CODE_LENGTH))


def redemption_scenario(*, scenario_id: int) -> Scenario:
    """The scenario as read now, or the refusal it gives anyone: not found, unavailable, sold out.

    Read without a lock: a sold-out count read here is final for this attempt (stock that comes
    back later is for later attempts), and a positive one is decided by the stock UPDATE.
    """
    scenario = Scenario.objects.select_related("merchant").filter(pk=scenario_id).first()
    if scenario is None:
        raise refusals.ScenarioNotFound()
    if scenario.kind == Scenario.Kind.POINTS_OFFSET or not scenario_is_open(scenario):
        raise refusals.ScenarioUnavailable(status=scenario.status)
    if scenario.stock is not None and (scenario.stock_left or 0) <= 0:
        raise refusals.OutOfStock()
    return scenario


def redemption_create(
    *, citizen: CarbonAccount, scenario_id: int, idempotency_key: str, key_claimed: bool = False,
    on_written: Callable[[Redemption], None] | None = None, scenario: Scenario | None = None,
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
    attempt on a refusal (so no savepoint is needed here). ``on_written`` is called with the
    written redemption just before the stock is taken: the caller keeps its answer there, so
    that nothing but the commit follows the stock UPDATE. ``scenario``: the caller read it with
    ``redemption_scenario`` already (before claiming its key), so it is not read twice.
    """
    spend_key = f"redeem:{citizen.pk}:{idempotency_key}"
    with transaction.atomic(savepoint=not key_claimed):
        if not key_claimed:
            _lock(CarbonAccount.objects.filter(pk=citizen.pk))
            earlier = Redemption.objects.filter(citizen=citizen, spend_tx__idempotency_key=spend_key).first()
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
            scenario=scenario, citizen=citizen, points_spent=scenario.points_cost, spend_tx=spend_tx,
            status=Redemption.Status.DONATED if donation else Redemption.Status.ISSUED,
        )
        if donation:
            redemption.save(force_insert=True)
        else:
            expires_at = timezone.now() + timedelta(days=scenario.voucher_valid_days)
            if scenario.valid_until:
                expires_at = max(min(expires_at, scenario.valid_until), timezone.now() + timedelta(hours=1))
            _redemption_with_voucher_insert(redemption, Voucher(code=_voucher_code(), expires_at=expires_at))
        if on_written is not None:
            on_written(redemption)
        _take_stock(scenario)  # last: the hot row is locked only until the commit that follows
    return redemption


def _redemption_with_voucher_insert(redemption: Redemption, voucher: Voucher) -> None:
    """Both rows by one statement (a data-modifying WITH): one round trip less while the
    scenario's stock row and the ledger accounts are locked."""
    voucher.redemption_id = 0  # the statement puts the new redemption's id in
    r_table, r_columns, r_params = insert_parts(redemption)
    v_table, v_columns, v_params = insert_parts(voucher, exclude=["redemption"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH r AS (INSERT INTO {r_table} ({r_columns}) VALUES ({', '.join(['%s'] * len(r_params))}) "
            f"RETURNING id) INSERT INTO {v_table} (redemption_id, {v_columns}) "
            f"SELECT r.id, {', '.join(['%s'] * len(v_params))} FROM r RETURNING redemption_id, id",
            [*r_params, *v_params],
        )
        redemption.pk, voucher.pk = cursor.fetchone()
    for row in (redemption, voucher):
        row._state.adding, row._state.db = False, connection.alias
    voucher.redemption = redemption


def _refund(*, redemption: Redemption, memo: str, give_back_stock: bool) -> None:
    """Return the points of an unconsumed voucher with a new ledger transaction; caller holds the lock.

    The ledger first, the stock last: the same lock order as a redemption (ledger accounts, then
    the scenario's stock row), so the two never deadlock.
    """
    redemption.refund_tx = transaction_reverse(
        original=redemption.spend_tx, idempotency_key=f"refund:redemption:{redemption.pk}", memo=memo
    )
    redemption.status = Redemption.Status.REFUNDED
    redemption.save(update_fields=["refund_tx", "status"])
    if give_back_stock:
        _return_stock(redemption.scenario)


def voucher_expire(*, voucher_id: int) -> bool:
    """Refund an unconsumed voucher past its expiry; safe to run twice (True when it refunded)."""
    with transaction.atomic():
        voucher = (
            Voucher.objects.select_for_update(of=("self",)).select_related("redemption__scenario")
            .filter(pk=voucher_id).first()
        )
        if (
            voucher is None or voucher.consumed_at or voucher.expired_at
            or voucher.redemption.status != Redemption.Status.ISSUED or voucher.expires_at > timezone.now()
        ):
            return False
        voucher.expired_at = timezone.now()
        voucher.save(update_fields=["expired_at"])
        redemption = Redemption.objects.select_for_update().get(pk=voucher.redemption_id)
        _refund(redemption=redemption, memo="voucher expired", give_back_stock=True)
    return True


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
            Redemption.objects.select_for_update(of=("self",)).select_related("scenario")
            .filter(pk=redemption_id, status=Redemption.Status.ISSUED).first()
        )
        if redemption is None or redemption.scenario.status != Scenario.Status.CANCELLED:
            return False
        _refund(redemption=redemption, memo="scenario cancelled", give_back_stock=False)
    return True


def voucher_consume(*, staff: MerchantStaff, code: str) -> Voucher:
    """Accept a voucher at the till, once; another merchant's voucher is unknown here."""
    with transaction.atomic():
        voucher = (
            Voucher.objects.select_for_update(of=("self",))
            .select_related("redemption__scenario")
            .filter(code=voucher_code_normalize(code), redemption__scenario__merchant_id=staff.merchant_id)
            .first()
        )
        if voucher is None:
            raise refusals.VoucherNotFound()
        if voucher.consumed_at:
            raise refusals.VoucherAlreadyConsumed(consumed_at=voucher.consumed_at.isoformat())
        # read after the lock: a refund that committed meanwhile must be seen
        if Redemption.objects.filter(pk=voucher.redemption_id, status=Redemption.Status.REFUNDED).exists():
            raise refusals.VoucherRefunded()
        if voucher.expires_at <= timezone.now():
            raise refusals.VoucherExpired(expires_at=voucher.expires_at.isoformat())
        voucher.consumed_at = timezone.now()
        voucher.consumed_by = staff.user
        voucher.save(update_fields=["consumed_at", "consumed_by"])
        Redemption.objects.filter(pk=voucher.redemption_id).update(status=Redemption.Status.CONSUMED)
        voucher.redemption.status = Redemption.Status.CONSUMED
    return voucher


# --- points at the till ----------------------------------------------------------------------


def payment_code_issue(*, citizen: CarbonAccount) -> PaymentCode:
    """A fresh 18-digit code the till scans; valid a few minutes, used once."""
    now = timezone.now()
    return PaymentCode.objects.create(
        citizen=citizen,
        code=f"{secrets.randbelow(10**18):018d}",
        created_at=now,
        expires_at=now + timedelta(seconds=settings.REDEMPTION_PAYMENT_CODE_TTL_S),
    )


def checkout_quote(*, scenario: Scenario, amount_fen: int, points: int) -> tuple[int, int]:
    """``(points_used, discount_fen)``: points pay at most ``max_share`` of the price, whole fen only.

    The citizen is never charged for a fraction of a fen: the points used are the fewest that
    buy the discount.
    """
    ppy, share = scenario.points_per_yuan, scenario.max_share_bp
    assert ppy and share is not None  # a points_offset scenario has both (model check)
    max_discount = amount_fen * share // 10_000
    discount = min(points * 100 // ppy, max_discount)
    points_used = -(-discount * ppy // 100)
    return points_used, discount


def checkout_create(
    *, staff: MerchantStaff, payment_code: str, amount_fen: int, points: int, scenario_id: int | None = None
) -> Checkout:
    """Take the citizen's points as part-payment of an order, recorded for settlement."""
    scenarios = Scenario.objects.select_related("merchant").filter(
        merchant_id=staff.merchant_id, kind=Scenario.Kind.POINTS_OFFSET
    )
    scenario = (scenarios.filter(pk=scenario_id) if scenario_id else scenarios.filter(status=Scenario.Status.LIVE)).first()
    if scenario is None or not scenario_is_open(scenario):
        raise refusals.ScenarioUnavailable(reason="no open points_offset scenario")
    with transaction.atomic():  # a refusal rolls back the code's use with the rest
        used = _payment_code_use(payment_code.strip())
        if used is None:
            raise refusals.PaymentCodeInvalid()
        code_id, citizen_id = used
        points_used, discount = checkout_quote(scenario=scenario, amount_fen=amount_fen, points=points)
        if points_used <= 0:
            raise refusals.NothingToOffset(max_share_bp=scenario.max_share_bp)
        if _has_limits(scenario):
            _lock(CarbonAccount.objects.filter(pk=citizen_id))
            used_before = Checkout.objects.filter(citizen_id=citizen_id, scenario=scenario, status=Checkout.Status.PAID)
            _check_limits(scenario=scenario, used=used_before)
        spend_tx = _spend(
            citizen_id=citizen_id, to=MERCHANT_POINTS, owner_id=staff.merchant_id, points=points_used,
            kind="checkout", key=f"checkout:{code_id}", reference=f"scenario:{scenario.pk}",
        )
        checkout = Checkout.objects.create(
            merchant_id=staff.merchant_id, scenario=scenario, citizen_id=citizen_id, cashier_id=staff.user_id,
            amount_fen=amount_fen, points_used=points_used, discount_fen=discount, spend_tx=spend_tx,
        )
        _take_stock(scenario)  # last, as for a redemption
        return checkout


def _payment_code_use(code: str) -> tuple[int, int] | None:
    """Mark a valid, unused code used; ``(code id, citizen id)``, or ``None`` when it is not.

    One conditional ``UPDATE … RETURNING``: tills scanning one code at once queue on its row, and
    the ones after the first find it used.
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {PaymentCode._meta.db_table} SET used_at = %s "
            "WHERE code = %s AND used_at IS NULL AND expires_at > %s RETURNING id, citizen_id",
            [now, code, now],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def checkout_reverse(*, staff: MerchantStaff, checkout_id: int) -> Checkout:
    """Undo a checkout within the reversal window: the points go back in a new transaction."""
    with transaction.atomic():
        checkout = (
            Checkout.objects.select_for_update(of=("self",)).select_related("scenario")
            .filter(pk=checkout_id, merchant_id=staff.merchant_id).first()
        )
        if checkout is None:
            raise refusals.CheckoutNotFound()
        if checkout.status == Checkout.Status.REVERSED:
            raise refusals.CheckoutAlreadyReversed()
        if SettlementLine.objects.filter(spend_tx_id=checkout.spend_tx_id).exists():
            raise refusals.CheckoutSettled()
        window = timedelta(minutes=settings.REDEMPTION_CHECKOUT_REVERSAL_MINUTES)
        if checkout.created_at + window < timezone.now():
            raise refusals.ReversalWindowClosed(window_minutes=settings.REDEMPTION_CHECKOUT_REVERSAL_MINUTES)
        checkout.refund_tx = transaction_reverse(
            original=checkout.spend_tx, idempotency_key=f"refund:checkout:{checkout.pk}", memo="checkout reversed"
        )
        checkout.status = Checkout.Status.REVERSED
        checkout.reversed_at = timezone.now()
        checkout.save(update_fields=["refund_tx", "status", "reversed_at"])
        _return_stock(checkout.scenario)  # ledger accounts before the scenario row, as when paying
        audit_record(actor=staff.user, action="merchant.checkout_reverse", obj=checkout,
                     details={"merchant_id": staff.merchant_id, "points": checkout.points_used})
    return checkout


# --- settlement ------------------------------------------------------------------------------


def settlement_rate() -> tuple[Decimal, str]:
    """The published rate (yuan per point) merchants are settled at, and who publishes it: the
    city's general budget (money paid in over points deposited), else the platform's setting."""
    return budget_selectors.settlement_rate()


def settlement_amount_fen(*, points: int, rate: Decimal) -> int:
    """Money owed for ``points`` at ``rate`` yuan per point, in whole fen (half to even)."""
    return int((points * rate * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def settlement_make(*, merchant: Merchant, day: date) -> Settlement | None:
    """The merchant's statement for one local day, posted to the ledger; final once made.

    It settles every payment the merchant took up to the end of the day (consumed vouchers,
    checkouts not reversed) that no earlier statement settled: so a day settled while still
    running, or a payment whose commit came late, is caught by the next statement, and a
    payment is settled once (its spend transaction is unique among the lines). Their points
    move in one transaction from the accounts they arrived on to the merchant's settled
    account, so what the merchant still holds is what is not yet settled; each payment becomes
    a line with the money owed at the published rate. The merchant's row is locked, so two runs
    make one statement, and the checkouts are locked, so a reversal either comes first or is
    refused after.
    """
    with transaction.atomic():
        _lock(Merchant.objects.filter(pk=merchant.pk))
        existing = Settlement.objects.filter(merchant=merchant, day=day).first()
        if existing:
            return existing
        _, end = _local_day_bounds(day)
        taken = Q(occurred__lt=end)
        latest = Settlement.objects.filter(merchant=merchant).order_by("-day", "-created_at").first()
        if latest is not None:
            # what the latest statement could see was settled by it (up to its day's end, or the
            # moment it was made if sooner); a day's margin catches payments committed late
            seen_until = min(latest.created_at, _local_day_bounds(latest.day)[1])
            taken &= Q(occurred__gte=seen_until - timedelta(days=1))
        settled = SettlementLine.objects.filter(settlement__merchant=merchant).values("spend_tx_id")
        rate, rate_source = settlement_rate()
        lines = [
            SettlementLine(kind=SettlementLine.Kind.VOUCHER, spend_tx_id=tx_id, reference=f"voucher:{code}",
                           occurred_at=at or end, points=points, rate_yuan_per_point=rate,  # consumed: never None here
                           rate_source=rate_source, amount_fen=settlement_amount_fen(points=points, rate=rate))
            for code, at, points, tx_id in Voucher.objects.filter(redemption__scenario__merchant=merchant)
            .alias(occurred=F("consumed_at")).filter(taken).exclude(redemption__spend_tx_id__in=settled)
            .values_list("code", "consumed_at", "redemption__points_spent", "redemption__spend_tx_id")
        ]
        checkouts = list(
            Checkout.objects.select_for_update().filter(merchant=merchant, status=Checkout.Status.PAID)
            .alias(occurred=F("created_at")).filter(taken).exclude(spend_tx_id__in=settled)
            .values_list("pk", "created_at", "points_used", "discount_fen", "spend_tx_id")
        )
        lines += [
            SettlementLine(kind=SettlementLine.Kind.CHECKOUT, spend_tx_id=tx_id, reference=f"checkout:{pk}",
                           occurred_at=at, points=points, rate_yuan_per_point=rate, rate_source=rate_source,
                           amount_fen=settlement_amount_fen(points=points, rate=rate))
            for pk, at, points, _discount, tx_id in checkouts
        ]
        if not lines:
            return None
        ledger_tx = _settlement_post(merchant=merchant, day=day, lines=lines)
        voucher_points = sum(line.points for line in lines if line.kind == SettlementLine.Kind.VOUCHER)
        checkout_points = sum(line.points for line in lines if line.kind == SettlementLine.Kind.CHECKOUT)
        settlement = Settlement.objects.create(
            merchant=merchant, day=day, ledger_tx=ledger_tx,
            vouchers_consumed=sum(1 for line in lines if line.kind == SettlementLine.Kind.VOUCHER),
            voucher_points=voucher_points, checkouts=len(checkouts), checkout_points=checkout_points,
            checkout_discount_fen=sum(discount for _, _, _, discount, _ in checkouts),
            points_total=voucher_points + checkout_points, amount_fen=sum(line.amount_fen for line in lines),
        )
        for line in lines:
            line.settlement = settlement
        SettlementLine.objects.bulk_create(lines)
    return settlement


def _settlement_post(*, merchant: Merchant, day: date, lines: list[SettlementLine]) -> LedgerTransaction:
    """One transaction: each line's points leave the receiving account its payment arrived on
    (read from the payment's own posting) for the merchant's settled account."""
    arrived_on = dict(
        Posting.objects.filter(transaction_id__in=[line.spend_tx_id for line in lines], amount__gt=0)
        .values_list("transaction_id", "account_id")
    )
    taken: dict[int, int] = defaultdict(int)
    for line in lines:
        taken[arrived_on[line.spend_tx_id]] += line.points
    sources = LedgerAccount.objects.in_bulk(list(taken))
    settled_key = (MERCHANT_SETTLED[0], merchant.pk, MERCHANT_SETTLED[1])
    settled = ledger_accounts_get_or_create(keys=[settled_key])[settled_key]
    legs = [Leg(sources[pk], -points) for pk, points in sorted(taken.items())]
    legs.append(Leg(settled, sum(taken.values())))
    return transaction_post(
        kind="settlement", legs=legs, idempotency_key=f"settle:{merchant.pk}:{day.isoformat()}",
        reference=f"merchant:{merchant.pk}", memo=f"settlement of {day.isoformat()}",
        metadata={"day": day.isoformat(), "spend_tx_ids": sorted(line.spend_tx_id for line in lines)},
    )


def settlements_run(*, day: date) -> int:
    """Statements of every merchant for ``day``; how many exist for it afterwards."""
    for merchant in Merchant.objects.all():
        settlement_make(merchant=merchant, day=day)
    return Settlement.objects.filter(day=day).count()
