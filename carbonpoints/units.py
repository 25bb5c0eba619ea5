"""Masses of CO2e as a person reads them best (g, kg or t), for pages, notifications and badges."""

from decimal import ROUND_HALF_EVEN, Decimal

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.formats import number_format

STEPS = ((1_000_000, "t"), (1_000, "kg"))


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
