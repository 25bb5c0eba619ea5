"""Factories of the operator's side."""

from decimal import Decimal

from carbonpoints.methodologies import services
from carbonpoints.methodologies.models import Methodology


def metro_draft(author, *, valid_from, version: int = 2, baseline: str = "50") -> Methodology:
    """A new version of the metro methodology, saved as a draft written by ``author``."""
    return services.methodology_draft_save(
        author=author,
        methodology=Methodology(
            code="metro_ride",
            version=version,
            title=f"Metro v{version}",
            unit="km",
            baseline_g_per_unit=Decimal(baseline),
            project_g_per_unit=Decimal("0"),
            basis="published",
            source="Metro operator's 2026 energy report",
            valid_from=valid_from,
        ),
    )
