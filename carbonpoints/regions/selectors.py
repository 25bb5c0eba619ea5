"""Reads of regions: a small table, read whole."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from . import codes
from .models import Region


def regions_all() -> QuerySet[Region]:
    return Region.objects.order_by("code")


def region_get(code: str) -> Region | None:
    return Region.objects.filter(code=code).first()


def region_codes() -> set[str]:
    return set(Region.objects.values_list("code", flat=True))


def regions_within(code: str) -> list[str]:
    """The region and every region that lies in it (a province: its cities), as codes."""
    return sorted(c for c in region_codes() | {code} if codes.within(c, code))


@dataclass(frozen=True)
class Picker:
    """A page's choice of region: the one shown, and those offered (none when only one matters)."""

    current: str
    regions: list[Region]

    @property
    def current_region(self) -> Region | None:
        return next((r for r in self.regions if r.code == self.current), None)


def region_picker(
    asked: str | None, *, shown: list[str] | None = None, within: list[str] | None = None
) -> Picker:
    """The region a page asked for (``?region=``), if known; else the default region.

    ``shown`` names the regions with something to show: the picker offers them, the regions they
    lie in and the default one, and is left out where that is a single region (one region's
    deployment looks as it always did). ``within``: only these may be offered (an operator's)."""
    known = {r.code: r for r in regions_all()}
    shown = list(known) if shown is None else shown
    provinces = {codes.province_of(code) for code in [*shown, codes.default()]}
    current = asked if asked in known else codes.default()
    regions = [
        region
        for code, region in sorted(known.items())
        if codes.province_of(code) in provinces and (within is None or code in within)
    ]
    return Picker(current=current, regions=regions if len(set(shown)) > 1 else [])
