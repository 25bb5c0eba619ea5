"""Template filters of the portal and the console: figures as people read them (see carbonpoints.units)."""

from django import template
from django.utils.translation import gettext_lazy as _

from carbonpoints.units import mass, trimmed, yuan

register = template.Library()

register.filter("mass", mass)
register.filter("yuan", yuan)
register.filter("trimmed", trimmed)


MOVEMENTS = {
    "earn_credit": _("Actions credited"),
    "earn_settle": _("Pending points became available"),
    "redemption": _("Redeemed"),
    "donation": _("Donated"),
    "checkout": _("Paid with points at a till"),
    "correction": _("Correction (refund or reversal)"),
}


VOUCHER_STATES = {
    "valid": _("valid"),
    "consumed": _("used"),
    "expired": _("expired"),
    "refunded": _("refunded"),
}


@register.filter
def voucher_state_label(state: str) -> str:
    """A voucher's state in words (selectors.voucher_state gives its code)."""
    return str(VOUCHER_STATES.get(state, state))


@register.filter
def movement(kind: str) -> str:
    """What moved a citizen's points, in words (the ledger keeps a code)."""
    return str(MOVEMENTS.get(kind, kind))
