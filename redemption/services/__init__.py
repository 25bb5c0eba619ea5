"""Writes of the spend side, one module per entity (as Zulip keeps its actions per domain):
merchants and their staff, scenarios, redemptions and vouchers, payment codes and checkouts at
the till, settlements, and the admission gate of a scenario's stock in Redis (``stock_gate``).
Offsets (the pool's units and their retirement) are in ``redemption.offsets``.

Every movement of points goes through the ledger's ``transaction_post`` (citizen POINTS → the
merchant's account) and every refund is a new transaction that references the original. The
rows written here only say what the points bought.

Callers import the package (``from redemption import services``; ``services.checkout_create``):
what each module offers is re-exported here.
"""

from .checkouts import checkout_create, checkout_quote, checkout_reverse
from .clearing import clearing_post
from .merchants import merchant_approve, merchant_create, merchant_draft, merchant_status_set
from .payment_codes import payment_code_issue
from .redemptions import (
    redemption_create,
    redemption_redeem_once,
    redemption_refund_cancelled,
    redemption_scenario,
)
from .scenarios import scenario_create, scenario_is_open, scenario_transition
from .settlements import settlement_amount_fen, settlement_make, settlements_run
from .staff import staff_add
from .stock_gate import stock_gate_admit, stock_gate_reconcile
from .vouchers import voucher_consume, voucher_expire

__all__ = [
    "checkout_create",
    "clearing_post",
    "checkout_quote",
    "checkout_reverse",
    "merchant_approve",
    "merchant_create",
    "merchant_draft",
    "merchant_status_set",
    "payment_code_issue",
    "redemption_create",
    "redemption_redeem_once",
    "redemption_refund_cancelled",
    "redemption_scenario",
    "scenario_create",
    "scenario_is_open",
    "scenario_transition",
    "settlement_amount_fen",
    "settlement_make",
    "settlements_run",
    "staff_add",
    "stock_gate_admit",
    "stock_gate_reconcile",
    "voucher_consume",
    "voucher_expire",
]
