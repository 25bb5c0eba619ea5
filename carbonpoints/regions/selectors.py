"""Reads of regions: a small table, read whole."""

from __future__ import annotations

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
