"""GB/T 2260 codes as a tree, in pure functions: no query on the hot paths.

``AABBCC``: AA the province, AABB00 a prefecture-level city, AABBCC a county or district. A
province's code ends in ``0000``, a city's in ``00``.
"""

from __future__ import annotations

import functools

from django.conf import settings


def valid(code: str) -> bool:
    return len(code) == 6 and code.isdigit() and code[:2] != "00"


def parent_of(code: str) -> str | None:
    """The region a code lies in: a county's city, a city's province; None for a province."""
    if code.endswith("0000"):
        return None
    if code.endswith("00"):
        return code[:2] + "0000"
    return code[:4] + "00"


def default() -> str:
    """The region of a deployment that names none: where existing rows migrated to."""
    return settings.DEFAULT_REGION


def chain(code: str | None) -> tuple[str, ...]:
    """The region and those it lies in, most specific first (``""`` or None: the default region)."""
    return _chain(code or default())


@functools.lru_cache(maxsize=4096)
def _chain(code: str) -> tuple[str, ...]:
    """Memoised: the crediting path asks it for each record, of a handful of codes."""
    out = [code]
    while (up := parent_of(out[-1])) is not None:
        out.append(up)
    return tuple(out)


def within(code: str | None, ancestor: str) -> bool:
    """Whether ``code`` is ``ancestor`` or lies in it."""
    return ancestor in chain(code)


def province_of(code: str | None) -> str:
    return chain(code)[-1]


def where_it_happened(named: str | None, approved: frozenset[str]) -> tuple[str, str]:
    """``(region, refusal code)`` of an action a partner reports (an event or a claim): the region
    it names, or without one the partner's when the partner is approved for one region only.

    The one rule of the feed and of claims, so both refuse alike: ``region_required`` (none named,
    several approved) and ``region_not_approved`` (named, not approved)."""
    if not named:
        if len(approved) == 1:
            return next(iter(approved)), ""
        return "", "region_required"
    return (named, "") if named in approved else ("", "region_not_approved")
