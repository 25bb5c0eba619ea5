"""Reads of methodologies and conversion rules: the catalogue is small, so it is read whole."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from carbonpoints.regions import codes as region_codes

from .models import ConversionRule, Methodology


def crediting_versions(now: datetime | None = None) -> QuerySet[Methodology]:
    """Versions that quantify actions: in force or retired (for their window), or approved with
    their start come (taking force is then only recorded by ``methodologies_take_force``)."""
    now = now or timezone.now()
    return Methodology.objects.filter(
        Q(status__in=[Methodology.Status.IN_FORCE, Methodology.Status.RETIRED])
        | Q(status=Methodology.Status.APPROVED, valid_from__lte=now)
    ).order_by("code", "valid_from")


def methodologies_published(now: datetime | None = None, region: str | None = None) -> list[dict]:
    """The public register of a region (None: the default region): per action code, the version
    in force there, the versions coming (approved, in their notice period) and the history of every
    version that was ever approved, the region's own and those of the regions it lies in.

    The version in force is the region's own, else the one it inherits (``inherited``: the
    province's, where the city has none of its own in force)."""
    now = now or timezone.now()
    places = region_codes.chain(region)
    versions = (
        Methodology.objects.exclude(status=Methodology.Status.DRAFT)
        .filter(region__in=places)
        .select_related("region")
        .order_by("code", "-valid_from")
    )
    register: dict[str, dict] = {}
    for version in sorted(
        versions, key=lambda v: places.index(v.region_id)
    ):  # the most specific first
        entry = register.setdefault(
            version.code,
            {
                "code": version.code,
                "in_force": None,
                "coming": [],
                "history": [],
                "inherited": False,
            },
        )
        if version.status == Methodology.Status.APPROVED and version.valid_from > now:
            entry["coming"].append(version)
        elif (
            entry["in_force"] is None
            and version.status != Methodology.Status.RETIRED
            and version.in_force(now)
        ):
            entry["in_force"] = version
            entry["inherited"] = version.region_id != places[0]
        entry["history"].append(version)
    return [register[code] for code in sorted(register)]


def methodology_regions() -> list[str]:
    """The regions with versions of their own (approved once at least), for the register's picker."""
    return sorted(
        set(
            Methodology.objects.exclude(status=Methodology.Status.DRAFT).values_list(
                "region_id", flat=True
            )
        )
    )


class Catalogue:
    """Every methodology version and conversion rule, to pick the one in force at a time and place.

    A version is a region's own: a city's version quantifies the actions there, and a province's
    version those of every city in it without a version of its own in force then."""

    def __init__(
        self,
        methodologies: Iterable[Methodology] | None = None,
        rules: Iterable[ConversionRule] | None = None,
    ) -> None:
        """The catalogue in force, read from the database; or of the versions and rules given.

        Read from the database, only versions that are (or were) in force: drafts, and approved
        versions whose start has not come, quantify nothing."""
        if methodologies is None:
            methodologies = crediting_versions()
        self.versions: dict[str, list[Methodology]] = defaultdict(list)
        self.local: dict[tuple[str, str], list[Methodology]] = defaultdict(list)
        """The versions of each (action code, region)."""
        for methodology in sorted(methodologies, key=lambda m: (m.code, m.valid_from)):
            self.versions[methodology.code].append(methodology)
            self.local[(methodology.code, methodology.region_id or region_codes.default())].append(
                methodology
            )
        self.rules = sorted(
            ConversionRule.objects.all() if rules is None else rules, key=lambda r: r.valid_from
        )
        self.by_id: dict[int, Methodology] = {
            m.pk: m for versions in self.versions.values() for m in versions
        }
        self._places: dict[tuple[str, str | None], list[list[Methodology]]] = {}

    def codes(self) -> set[str]:
        return set(self.versions)

    def methodology_at(
        self, code: str, at: datetime, region: str | None = None
    ) -> Methodology | None:
        """The most specific version in force at ``at`` where the action happened (``region``, a
        GB/T 2260 code; None: the default region): the region's own, else the one it lies in."""
        for versions in self._where(code, region):
            for methodology in reversed(versions):
                if methodology.in_force(at):
                    return methodology
        return None

    def _where(self, code: str, region: str | None) -> list[list[Methodology]]:
        """The versions of ``code`` that may hold in ``region``, most specific region first
        (worked out once per code and region: the crediting path asks for each record)."""
        found = self._places.get((code, region))
        if found is None:
            found = self._places[(code, region)] = [
                self.local[(code, place)]
                for place in region_codes.chain(region)
                if (code, place) in self.local
            ]
        return found

    def current_unit(self, code: str) -> str | None:
        versions = self.versions.get(code)
        return versions[-1].unit if versions else None

    def rule_at(self, at: datetime) -> ConversionRule | None:
        for rule in reversed(self.rules):
            if rule.in_force(at):
                return rule
        return None


def methodology_explained(methodology: Methodology) -> dict:
    """A methodology version as an action's explanation cites it: factors, basis and source."""
    return {
        "code": methodology.code,
        "version": methodology.version,
        "title": methodology.title,
        "unit": methodology.unit,
        "baseline_g_per_unit": _dec(methodology.baseline_g_per_unit),
        "project_g_per_unit": _dec(methodology.project_g_per_unit),
        "net_g_per_unit": _dec(methodology.net_g_per_unit),
        "basis": methodology.basis,
        "source": methodology.source,
    }


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def action_codes() -> list[str]:
    return sorted(set(Methodology.objects.values_list("code", flat=True)))
