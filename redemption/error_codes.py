"""Codes of refusals of the spend side (citizens redeeming, merchants at the till)."""

from enum import StrEnum


class SpendErrorCode(StrEnum):
    INSUFFICIENT_POINTS = "insufficient_points"
    OUT_OF_STOCK = "out_of_stock"
    LIMIT_REACHED = "limit_reached"
    SCENARIO_UNAVAILABLE = "scenario_unavailable"
    SCENARIO_STATE_CONFLICT = "scenario_state_conflict"
    VOUCHER_ALREADY_CONSUMED = "voucher_already_consumed"
    VOUCHER_EXPIRED = "voucher_expired"
    VOUCHER_REFUNDED = "voucher_refunded"
    PAYMENT_CODE_INVALID = "payment_code_invalid"
    NOTHING_TO_OFFSET = "nothing_to_offset"
    CHECKOUT_ALREADY_REVERSED = "checkout_already_reversed"
    CHECKOUT_SETTLED = "checkout_settled"
    REVERSAL_WINDOW_CLOSED = "reversal_window_closed"
    INSUFFICIENT_POOL = "insufficient_pool"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_KEY_REQUIRED = "idempotency_key_required"
    SETTLEMENT_NOT_FOUND = "settlement_not_found"
    NOT_MERCHANT_STAFF = "not_merchant_staff"
    MERCHANT_NOT_APPROVED = "merchant_not_approved"
    MANAGER_ONLY = "manager_only"
    MERCHANT_NOT_PENDING = "merchant_not_pending"
