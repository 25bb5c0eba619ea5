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


def partner_with_key(
    *, name: str | None = None, actions=("metro_ride", "bus_ride")
) -> PartnerCredentials:
    partner, key, secret = partner_create(
        name=name or f"Partner {next(_ids)}", actions=list(actions)
    )
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
        "occurred_at": occurred_at.isoformat()
        if hasattr(occurred_at, "isoformat")
        else occurred_at,
        "attributes": {"line": "1"},
    }
    data.update(overrides)
    return data


@dataclass
class MetroMember:
    """A metro partner and a citizen linked to it as member "m", whose rides go straight through
    intake (no HTTP) and whom an operator may reverse: for properties that run many steps."""

    partner: Partner
    owner: int
    """The citizen's carbon account id."""
    operator: object

    @classmethod
    def open(cls) -> MetroMember:
        from carbonpoints.earn.services import identity_link_create
        from tests.factories import CitizenFactory, UserFactory

        partner, _key, _secret = partner_create(name="Metro", actions=["metro_ride"])
        citizen = CitizenFactory()
        identity_link_create(
            account=citizen.carbon_account, partner=partner, subject="m", scenes=None, wording="ok"
        )
        return cls(
            partner=partner,
            owner=citizen.carbon_account.pk,
            operator=UserFactory(role="operator", is_staff=True),
        )

    def holds(self) -> dict[str, int]:
        """What the citizen holds, ledger plus unposted accrual, as their account page reads it:
        ``reduction_g``, ``available`` and ``pending``."""
        from accounts.models import CarbonAccount
        from accounts.selectors import carbon_account_balances

        return carbon_account_balances(account=CarbonAccount.objects.get(pk=self.owner))

    def ride(self, n: int, km: int) -> None:
        """Ride ``n`` of ``km``, a minute after ride n - 1, starting a day ago."""
        import json

        from carbonpoints.earn.intake import candidate_from_json, events_ingest
        from carbonpoints.earn.models import Batch

        at = timezone.now() - timedelta(days=1) + timedelta(minutes=n)
        raw = json.dumps(
            {
                "external_id": f"r{n}",
                "subject": "m",
                "action": "metro_ride",
                "quantity": km,
                "unit": "km",
                "occurred_at": at.isoformat(),
            }
        ).encode()
        events_ingest(
            partner=self.partner,
            batch=Batch.objects.create(partner=self.partner),
            candidates=[candidate_from_json(raw)],
        )

    def reverse(self, nth: int) -> None:
        """The operator reverses the citizen's record number ``nth`` (modulo how many there are)."""
        from carbonpoints.earn.corrections import action_reverse
        from carbonpoints.earn.exceptions import AlreadyReversed
        from carbonpoints.earn.models import ActionRecord

        records = list(ActionRecord.objects.filter(account_id=self.owner).order_by("id"))
        if records:
            try:
                action_reverse(
                    record=records[nth % len(records)], operator=self.operator, reason="test"
                )
            except AlreadyReversed:
                pass
