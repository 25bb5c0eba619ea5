"""Demo partners, linked citizens and a few weeks of their actions, run through the real pipeline."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.demo import OPERATOR_EMAIL, demo_citizens
from accounts.models import User
from carbonpoints.methodologies.selectors import Catalogue

from .corrections import action_reverse
from .intake import candidate_from_json, events_ingest
from .models import ActionRecord, ActionState, Batch, IdentityLink, Partner, PartnerKey
from .selectors import consent_wording
from .services import identity_link_create
from .signing import secret_encrypt

PARTNERS = [
    # name, key id, approved actions, member id prefix
    (
        "武汉地铁 Wuhan Metro",
        "pk_demo_metro",
        ["metro_ride"],
        "WHM",
    ),  # Wuhan: the demo province's default region
    ("城市公交 City Bus", "pk_demo_bus", ["bus_ride"], "BUS"),
    ("哈啰单车 Bike Share", "pk_demo_bikes", ["bike_ride"], "BIKE"),
    ("绿能充电 GreenCharge", "pk_demo_charging", ["ev_charge"], "EV"),
]
DEMO_SECRET = "cp-demo-partner-secret"
"""Every demo partner signs with this secret (demo only: real partners get a random one)."""
DAYS = 21
LINKED_CITIZENS = 50


def _events(partner_prefix: str, action: str, subject: str, rng: random.Random, now) -> list[dict]:
    events = []
    for day in range(DAYS, 0, -1):
        date = timezone.localtime(now - timedelta(days=day))
        weekday = date.weekday() < 5
        start = date.replace(
            hour=rng.choice([7, 8, 9]), minute=rng.randrange(60), second=0, microsecond=0
        )
        if action == "metro_ride" and weekday and rng.random() < 0.8:
            for leg, hour_shift in enumerate((0, 10)):
                km = round(rng.uniform(3, 25), 1)
                events.append(
                    dict(
                        action=action,
                        quantity=km,
                        unit="km",
                        at=start + timedelta(hours=hour_shift),
                        attributes={"line": str(rng.randrange(1, 17)), "duration_s": int(km * 150)},
                        n=leg,
                    )
                )
        elif action == "bus_ride" and rng.random() < 0.35:
            km = round(rng.uniform(2, 12), 1)
            events.append(
                dict(
                    action=action,
                    quantity=km,
                    unit="km",
                    at=start + timedelta(hours=3),
                    attributes={
                        "route": f"M{rng.randrange(100, 500)}",
                        "duration_s": int(km * 240),
                    },
                    n=0,
                )
            )
        elif action == "bike_ride" and rng.random() < 0.4:
            km = round(rng.uniform(1, 6), 1)
            events.append(
                dict(
                    action=action,
                    quantity=km,
                    unit="km",
                    at=start + timedelta(hours=5),
                    attributes={"duration_s": int(km * 300)},
                    n=0,
                )
            )
        elif action == "ev_charge" and rng.random() < 0.12:
            kwh = round(rng.uniform(10, 60), 1)
            events.append(
                dict(
                    action=action,
                    quantity=kwh,
                    unit="kWh",
                    at=start + timedelta(hours=11),
                    attributes={"station": f"GC-{rng.randrange(1, 80):03d}"},
                    n=0,
                )
            )
    return [
        {
            "external_id": f"{partner_prefix}-{subject}-{e['at']:%Y%m%d%H%M}-{e['n']}",
            "subject": subject,
            "action": e["action"],
            "quantity": e["quantity"],
            "unit": e["unit"],
            "occurred_at": e["at"].isoformat(),  # type: ignore[attr-defined]
            "attributes": e["attributes"],
        }
        for e in events
    ]


def seed(*, password: str, citizens: int, log: Callable[[str], None]) -> dict[str, str]:
    if Partner.objects.filter(name=PARTNERS[0][0]).exists():
        log("partners and their actions already there")
        return {}
    rng = random.Random(2026)
    now = timezone.now()
    catalogue = Catalogue()
    people = demo_citizens(min(citizens, LINKED_CITIZENS))
    total = 0
    for name, key_id, actions, prefix in PARTNERS:
        with transaction.atomic():
            partner = Partner.objects.create(name=name, actions=actions)
            PartnerKey.objects.create(
                partner=partner, key_id=key_id, secret_encrypted=secret_encrypt(DEMO_SECRET)
            )
            events = []
            for user in people:
                account = user.carbon_account
                subject = f"{prefix}{user.pk:06d}"
                if not IdentityLink.objects.filter(partner=partner, subject=subject).exists():
                    identity_link_create(
                        account=account,
                        partner=partner,
                        subject=subject,
                        scenes=None,
                        wording=consent_wording(partner=partner, subject=subject, scenes=actions),
                    )
                events += _events(prefix, actions[0], subject, rng, now)
            # a member nobody linked yet: held as unlinked
            events += _events(prefix, actions[0], f"{prefix}-UNLINKED", rng, now)[:3]
            batch = Batch.objects.create(partner=partner)
            candidates = [candidate_from_json(json.dumps(e).encode()) for e in events]
            for start in range(0, len(candidates), 5000):
                events_ingest(
                    partner=partner,
                    batch=batch,
                    candidates=candidates[start : start + 5000],
                    catalogue=catalogue,
                )
        total += len(events)
    log(
        f"{len(PARTNERS)} partners (key ids pk_demo_*, secret {DEMO_SECRET!r}), {len(people)} citizens linked, "
        f"{total} actions through the pipeline"
    )
    _reverse_one(people[0] if people else None, log)
    return {}


def _reverse_one(citizen: User | None, log: Callable[[str], None]) -> None:
    """A reversed action to show: the first citizen's latest credited ride, reversed by the operator."""
    record = (
        (
            ActionRecord.objects.filter(account__user=citizen, state=ActionState.CREDITED)
            .order_by("-occurred_at")
            .first()
        )
        if citizen is not None
        else None
    )
    operator = User.objects.filter(email=OPERATOR_EMAIL).first()
    if record is None:
        return
    action_reverse(
        record=record,
        operator=operator,
        reason="duplicate of a ride already reported / 与已上报的出行重复",
    )
    log(f"one action reversed by the operator ({record.external_id})")
