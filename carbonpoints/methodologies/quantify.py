"""Quantification: factors in, grams out. Pure functions, no database."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal


def reduction_g(
    *,
    quantity: Decimal,
    baseline_g_per_unit: Decimal,
    project_g_per_unit: Decimal,
    rate: Decimal = Decimal(1),
) -> int:
    """``round_half_even(quantity × (baseline − project) × rate)`` in whole grams CO2e (``rate``:
    the methodology's reduced rate of a self-reported action, else 1), rounded once."""
    exact = (
        Decimal(quantity)
        * (Decimal(baseline_g_per_unit) - Decimal(project_g_per_unit))
        * Decimal(rate)
    )
    return int(exact.to_integral_value(rounding=ROUND_HALF_EVEN))


def points_for(*, grams: int, carried_g: int, grams_per_point: int) -> tuple[int, int]:
    """Points for ``grams`` plus the citizen's carried remainder, and the new remainder.

    A negative carry (points a reversal could not take back) is paid off first: no points until
    carried + grams is above zero.
    """
    total = carried_g + grams
    if total <= 0:
        return 0, total
    return total // grams_per_point, total % grams_per_point
