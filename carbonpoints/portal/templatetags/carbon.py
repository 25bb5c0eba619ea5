"""Template filters of the portal: masses in the unit a person reads best."""

from decimal import ROUND_HALF_EVEN, Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

register = template.Library()

STEPS = ((1_000_000, "t"), (1_000, "kg"))


@register.filter
def mass(grams) -> str:
    """Grams as g, kg or t (from 1 kg and 1 t on), three significant figures at most: 467 g, 12.3 kg, 1.05 t."""
    if grams is None or grams == "":
        return "–"
    grams = int(grams)
    for size, unit in STEPS:
        if abs(grams) >= size:
            value = Decimal(grams) / size
            places = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
            value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
            return f"{number_format(value, places, use_l10n=True, force_grouping=True)} {unit}"
    return f"{intcomma(grams)} g"


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
