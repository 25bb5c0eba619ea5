"""Factories of the earn side: partners with a known secret, and partner events."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from carbonpoints.earn.models import Partner, PartnerKey
from carbonpoints.earn.services import partner_create

_ids = itertools.count(1)


@dataclass
class PartnerCredentials:
    partner: Partner
    key: PartnerKey
    secret: str

    @property
    def key_id(self) -> str:
        return self.key.key_id


def partner_with_key(*, name: str | None = None, actions=("metro_ride", "bus_ride")) -> PartnerCredentials:
    partner, key, secret = partner_create(name=name or f"Partner {next(_ids)}", actions=list(actions))
    return PartnerCredentials(partner=partner, key=key, secret=secret)


def event(**overrides) -> dict:
    """One partner event, a 10 km metro ride an hour ago unless told otherwise."""
    n = next(_ids)
    occurred_at = overrides.pop("occurred_at", timezone.now() - timedelta(hours=1))
    data = {
        "external_id": f"ev-{n}",
        "subject": "member-1",
        "action": "metro_ride",
        "quantity": 10,
        "unit": "km",
        "occurred_at": occurred_at.isoformat() if hasattr(occurred_at, "isoformat") else occurred_at,
        "attributes": {"line": "1"},
    }
    data.update(overrides)
    return data
