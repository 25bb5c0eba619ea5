"""Verification rules that look at one record alone (pure functions over data).

Rules that need other records (caps, duplicate trips) live in the pipeline, set-based.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from carbonpoints.methodologies.models import Methodology


def plausibility_refusal(
    *, quantity: Decimal, occurred_at: datetime, received_at: datetime, attributes: dict,
    methodology: Methodology, clock_skew: timedelta, backfill: timedelta,
) -> tuple[str, dict]:
    """The reason code (and its figures) why a record is implausible, or ``("", {})``."""
    if occurred_at > received_at + clock_skew:
        return "occurred_in_future", {"max_skew_s": int(clock_skew.total_seconds())}
    if occurred_at < received_at - backfill:
        return "too_old", {"backfill_days": backfill.days}
    if methodology.fixed_quantity is not None and quantity != methodology.fixed_quantity:
        return "quantity_not_allowed", {"expected": str(methodology.fixed_quantity.normalize())}
    if methodology.max_quantity_per_record is not None and quantity > methodology.max_quantity_per_record:
        return "quantity_implausible", {"max": str(methodology.max_quantity_per_record.normalize()),
                                        "unit": methodology.unit}
    duration = attributes.get("duration_s")
    if methodology.max_speed_kmh is not None and methodology.unit == "km" and duration:
        speed = quantity / (Decimal(str(duration)) / 3600)
        if speed > methodology.max_speed_kmh:
            return "speed_implausible", {"speed_kmh": str(round(speed, 1)),
                                         "max_kmh": str(methodology.max_speed_kmh.normalize())}
    return "", {}


def overlaps(a_start, a_end, b_start, b_end, tolerance: timedelta) -> bool:
    """Two trips overlap in time, give or take ``tolerance``."""
    return a_start <= b_end + tolerance and b_start <= a_end + tolerance
