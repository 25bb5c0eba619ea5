"""Which regions an operator has authority over: a city's operator their city's (and what lies in
it), a provincial operator every region. Operators with no region named are provincial, so a
deployment of one region, whose operators name none, works as it always did.

The admin (``RegionScopedAdmin``), the operator pages and the four-eyes approvals all ask here.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from carbonpoints.error_codes import ApprovalErrorCode
from carbonpoints.errors import Forbidden

from . import codes
from .selectors import region_codes


class OutsideRegion(Forbidden):
    code = ApprovalErrorCode.OUTSIDE_REGION
    message = _("This belongs to a region you are not an operator of.")


def operator_regions(user) -> list[str] | None:
    """The codes an operator has authority over (their regions and every known region in them);
    None: every region."""
    if user is None or not getattr(user, "pk", None):
        return None
    if hasattr(user, "_operator_regions"):
        return user._operator_regions
    named = operator_named_regions(user)
    scope = None
    if named:
        known = region_codes() | set(named)
        scope = sorted(code for code in known if any(codes.within(code, mine) for mine in named))
    user._operator_regions = scope
    return scope


def operator_named_regions(user) -> list[str]:
    """The regions an operator's user names (none: a provincial operator), in code order."""
    return sorted(user.regions.values_list("code", flat=True)) if getattr(user, "pk", None) else []


def has_authority(user, region: str | None) -> bool:
    scope = operator_regions(user)
    return scope is None or (region or codes.default()) in scope


def authority_check(user, region: str | None) -> None:
    """Refuse an operator without authority over ``region`` (four eyes: both operators need it)."""
    if not has_authority(user, region):
        raise OutsideRegion(region=region or codes.default())


def in_scope(user, path: str, *, unplaced: bool = False) -> Q | None:
    """The filter of a queryset to what ``user`` may see, by the region at ``path`` (e.g.
    ``"region"``, ``"merchant__region"``, ``"regions"``); None: no filter. ``unplaced``: a row
    with no region at ``path`` is every operator's (a sponsor with no budget yet)."""
    scope = operator_regions(user)
    if scope is None:
        return None
    condition = Q(**{f"{path}__in": scope})
    if unplaced or (
        codes.default() in scope and path.split("__")[-1] == "regions"
    ):  # a partner approved for none: the default region's
        condition |= Q(**{f"{path}__isnull": True})
    return condition


def authority_check_all(user, regions) -> None:
    """Refuse an operator without authority over every one of ``regions`` (a partner's)."""
    for region in regions:
        authority_check(user, region)
