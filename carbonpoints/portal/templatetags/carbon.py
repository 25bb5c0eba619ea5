"""Template filters of the portal and the console: figures as people read them (see carbonpoints.units)."""

from django import template
from django.utils.translation import gettext_lazy as _

from carbonpoints.names import local_name
from carbonpoints.units import mass, trimmed, yuan

register = template.Library()

register.filter("mass", mass)
register.filter("yuan", yuan)
register.filter("trimmed", trimmed)
register.filter("local", local_name)


MOVEMENTS = {
    "earn_credit": _("Actions credited"),
    "citizen_accrual": _("Actions credited"),  # a credit reaching the citizen's accounts
    "earn_settle": _("Pending points became available"),
    "redemption": _("Redeemed"),
    "donation": _("Donated"),
    "checkout": _("Paid with points at a till"),
    "correction": _("Correction (refund or reversal)"),
    "earn_reversal": _("Action reversed: its points taken back"),
    "earn_fund": _("Owed points funded by a sponsor"),
    "points_expire": _("Unused points expired"),
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
def scene_title(code: str) -> str:
    """An action code's readable name (for short lists: one query each)."""
    from carbonpoints.earn.selectors import scene_titles

    return scene_titles(codes=[code], local=True)[code]


@register.filter
def movement(kind: str) -> str:
    """What moved a citizen's points, in words (the ledger keeps a code)."""
    return str(MOVEMENTS.get(kind, _("Other movement")))
