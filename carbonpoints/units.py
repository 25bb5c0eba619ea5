"""Figures as a person reads them best: masses of CO2e (g, kg or t), yuan from fen, trimmed rates.

For pages, notifications and badges; the ledger and the API keep integers (grams, points, fen).
"""

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


def yuan(fen) -> str:
    """Fen as yuan with the sign and two decimals, grouped: 3550 → ¥35.50, 123456789 → ¥1,234,567.89."""
    if fen is None or fen == "":
        return "–"
    fen = int(fen)
    value = (Decimal(abs(fen)) / 100).quantize(Decimal("0.01"))
    return f"{'-' if fen < 0 else ''}¥{number_format(value, 2, use_l10n=True, force_grouping=True)}"


def trimmed(number) -> str:
    """A rate without its trailing zeros, grouped: 0.050000 → 0.05, 100.0 → 100."""
    if number is None or number == "":
        return "–"
    value = Decimal(str(number)).normalize()
    places = max(0, -int(value.as_tuple().exponent))
    return number_format(value, places, use_l10n=True, force_grouping=True)
