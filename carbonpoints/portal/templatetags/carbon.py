"""Template filters of the portal: masses in the unit a person reads best."""

from django import template
from django.utils.translation import gettext_lazy as _

from carbonpoints.units import mass

register = template.Library()

register.filter("mass", mass)


MOVEMENTS = {
    "earn_credit": _("Actions credited"),
    "earn_settle": _("Pending points became available"),
    "redemption": _("Redeemed"),
    "donation": _("Donated"),
    "checkout": _("Paid with points at a till"),
    "correction": _("Correction (refund or reversal)"),
}


@register.filter
def movement(kind: str) -> str:
    """What moved a citizen's points, in words (the ledger keeps a code)."""
    return str(MOVEMENTS.get(kind, kind))
