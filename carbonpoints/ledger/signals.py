"""What the ledger tells the apps above it, without knowing them."""

from django.dispatch import Signal

balances_changed = Signal()
"""Sent by the posting services inside the writer's transaction, once balances changed, with
``owners``: the ``(kind, owner_id)`` of every account posted to. Caches of balances forget them."""
