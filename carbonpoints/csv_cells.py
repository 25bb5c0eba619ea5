"""CSV files the platform writes are opened in spreadsheets: a cell that starts like a formula
(``=``, ``+``, ``-``, ``@``, a tab or a carriage return) would run as one (CSV injection, OWASP).
Such a text cell is written with a leading apostrophe; numbers are written as they are."""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """``value`` safe to put in a CSV cell: text that would start a formula gets a ``'`` first."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
