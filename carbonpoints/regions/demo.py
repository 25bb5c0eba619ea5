"""The demo province: Hubei, with Wuhan (the demo city of before) and Yichang and Xiangyang.

Run after the demo city's partners: the catalogue becomes the province's, Yichang gets its own
version of the bus methodology (its factor is demo data, and says so), each new city a sponsor's
budget, a bus partner and a merchant; the bike share serves all three cities; some citizens ride in
Yichang and Xiangyang and spend there, and some live there (their home region)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.demo import OPERATOR_EMAIL, demo_citizens
from accounts.models import User
from accounts.services import account_home_region_set
from carbonpoints.budgets.models import Budget, Sponsor
from carbonpoints.budgets.services import budget_deposit
from carbonpoints.earn.demo import DEMO_SECRET, LINKED_CITIZENS, PARTNERS, _events
from carbonpoints.earn.intake import candidate_from_json, events_ingest
from carbonpoints.earn.models import Batch, IdentityLink, Partner, PartnerKey
from carbonpoints.earn.selectors import consent_wording
from carbonpoints.earn.services import identity_link_create
from carbonpoints.earn.signing import secret_encrypt
from carbonpoints.methodologies.models import Methodology
from carbonpoints.methodologies.selectors import Catalogue
from redemption.exceptions import SpendRefused
from redemption.models import Merchant, Scenario
from redemption.services import merchant_create, redemption_create, scenario_create

from . import codes
from .models import Region

HUBEI, WUHAN, YICHANG, XIANGYANG = "420000", "420100", "420500", "420600"
DEMO_FACTOR_SOURCE = (
    "DEMO DATA, not a published factor: Yichang's own bus factor of {figure}, made up to show "
    "a city's version overriding the province's. 演示数据，非公开发布的排放因子。"
)
CITIES = {
    # region: sponsor, partner (name, key id, member id prefix), merchant (name, manager), its offers
    YICHANG: (
        "宜昌市生态环境局 Yichang Ecology Bureau",
        ("宜昌公交 Yichang Bus", "pk_demo_yichang_bus", "YCB"),
        ("三峡茶社 Three Gorges Tea House", "manager@sanxiatea.demo.carbonpoints.cn"),
        [{"kind": "voucher", "title": "一壶宜红 A pot of Yihong tea", "points_cost": 400}],
    ),
    XIANGYANG: (
        "襄阳市生态环境局 Xiangyang Ecology Bureau",
        ("襄阳公交 Xiangyang Bus", "pk_demo_xiangyang_bus", "XYB"),
        ("隆中书店 Longzhong Books", "manager@longzhong.demo.carbonpoints.cn"),
        [{"kind": "voucher", "title": "图书八折 20% off a book", "points_cost": 250}],
    ),
}
TRAVELLERS = 20
"""Demo citizens who also ride in Yichang and Xiangyang, and spend at Longzhong Books."""
RESIDENTS = 4
"""Demo citizens who live and ride in Yichang only (the first the Wuhan partners never linked),
and spend in Xiangyang and in Wuhan: their points are Yichang's budget's, so the clearing
statement shows what Yichang owes."""


CITY_OPERATORS = {
    WUHAN: "operator-wuhan@demo.carbonpoints.cn",
    YICHANG: "operator-yichang@demo.carbonpoints.cn",
    XIANGYANG: "operator-xiangyang@demo.carbonpoints.cn",
}
"""A city's operator each: they see their city's partners, budgets, merchants and records only."""


def _city_operators(password: str) -> dict[str, str]:
    for region, email in CITY_OPERATORS.items():
        if not User.objects.filter(email=email).exists():
            operator = User.objects.create_superuser(
                email=email, password=password, display_name=f"运营 {region} Operator"
            )
            operator.regions.set(Region.objects.filter(code=region))
    return {"operator (Yichang)": CITY_OPERATORS[YICHANG]}


def seed(*, password: str, citizens: int, log: Callable[[str], None]) -> dict[str, str]:
    logins = _city_operators(password)
    if Partner.objects.filter(name=CITIES[YICHANG][1][0]).exists():
        log("Hubei's cities already there")
        return logins
    operator = User.objects.get(email=OPERATOR_EMAIL)
    now = timezone.localtime()
    with transaction.atomic():
        Methodology.objects.filter(region_id=codes.default()).update(region_id=HUBEI)
        _yichang_bus(now)
    people = demo_citizens(min(citizens, TRAVELLERS))
    residents = yichang_residents(citizens)
    rng = random.Random(420)
    catalogue = Catalogue()
    total = 0
    for region, (
        sponsor,
        (partner_name, key_id, prefix),
        (merchant_name, manager),
        offers,
    ) in CITIES.items():
        with transaction.atomic():
            budget = Budget.objects.create(
                sponsor=Sponsor.objects.create(name=sponsor, kind=Sponsor.Kind.CITY),
                region_id=region,
                name=f"{now.year} 碳普惠 citizens' points",
                starts_at=now - timedelta(days=60),
                ends_at=now + timedelta(days=300),
            )
            budget_deposit(
                budget=budget,
                points=2_000_000,
                yuan_fen=2_000_000,
                operator=operator,
                note="first tranche",
            )
            partner = Partner.objects.create(name=partner_name, actions=["bus_ride"])
            partner.regions.set(Region.objects.filter(code=region))
            PartnerKey.objects.create(
                partner=partner, key_id=key_id, secret_encrypted=secret_encrypt(DEMO_SECRET)
            )
            total += _ride(partner, prefix, "bus_ride", people, rng, now, catalogue)
            for n in range(3 if region == YICHANG else 0):  # residents ride the bus daily
                total += _ride(partner, f"{prefix}R{n}", "bus_ride", residents, rng, now, catalogue)
            merchant, _ = merchant_create(name=merchant_name, manager_email=manager, region=region)
            manager_user = User.objects.get(email=manager)
            manager_user.set_password(password)
            manager_user.save(update_fields=["password"])
            for spec in offers:
                scenario_create(merchant=merchant, **spec)  # type: ignore[arg-type]  # literals above
    bikes = Partner.objects.get(name=PARTNERS[2][0])
    bikes.regions.set(
        Region.objects.filter(code__in=[WUHAN, YICHANG, XIANGYANG])
    )  # a bike share of several cities: its events name one
    with transaction.atomic():
        total += _ride(
            bikes, PARTNERS[2][3], "bike_ride", people, rng, now, catalogue, region=YICHANG
        )
        total += _ride(
            bikes, PARTNERS[2][3], "bike_ride", residents, rng, now, catalogue, region=YICHANG
        )
    Scenario.objects.filter(merchant__region_id=XIANGYANG).update(province_wide=True)
    for n, user in enumerate(demo_citizens(citizens)):
        if n % 5 == 3:
            account_home_region_set(account=user.carbon_account, region=(YICHANG, XIANGYANG)[n % 2])
    for user in residents:
        account_home_region_set(account=user.carbon_account, region=YICHANG)
    spent = _spend_in_xiangyang(people) + _spend_in_xiangyang(residents)
    log(
        f"Hubei: Yichang and Xiangyang with a budget, a bus partner and a merchant each; {total} actions there; "
        f"Yichang's own bus methodology (demo factor); {spent} redemptions in Xiangyang; an operator per city"
    )
    return logins


def yichang_residents(citizens: int) -> list[User]:
    """The demo's Yichang residents (none in a demo of few citizens: every one rides in Wuhan)."""
    return demo_citizens(citizens)[LINKED_CITIZENS:][:RESIDENTS]


def _yichang_bus(now) -> None:
    province = (
        Methodology.objects.filter(code="bus_ride", region_id=HUBEI).order_by("-version").first()
    )
    if province is None:
        return
    baseline = province.baseline_g_per_unit + Decimal(20)
    Methodology.objects.create(
        code="bus_ride",
        version=Methodology.objects.filter(code="bus_ride").count() + 1,
        region_id=YICHANG,
        title="宜昌公交 Yichang bus (demo factor)",
        unit=province.unit,
        baseline_g_per_unit=baseline,
        project_g_per_unit=province.project_g_per_unit,
        basis=Methodology.Basis.ESTIMATE,
        source=DEMO_FACTOR_SOURCE.format(
            figure=f"{baseline.normalize():f} g CO2 per {province.unit}"
        ),
        valid_from=now - timedelta(days=90),
        status=Methodology.Status.IN_FORCE,
        max_quantity_per_record=province.max_quantity_per_record,
        daily_cap=province.daily_cap,
        monthly_cap=province.monthly_cap,
        max_speed_kmh=province.max_speed_kmh,
    )


def _ride(
    partner: Partner,
    prefix: str,
    action: str,
    people: list[User],
    rng: random.Random,
    now,
    catalogue: Catalogue,
    region: str | None = None,
) -> int:
    events = []
    for user in people:
        subject = f"{prefix}{user.pk:06d}"
        if not IdentityLink.objects.filter(
            partner=partner, subject=subject, revoked_at__isnull=True
        ).exists():
            identity_link_create(
                account=user.carbon_account,
                partner=partner,
                subject=subject,
                scenes=None,
                wording=consent_wording(partner=partner, subject=subject, scenes=partner.actions),
            )
        for event in _events(f"{prefix}-{region or 'R'}", action, subject, rng, now):
            events.append({**event, **({"region": region} if region else {})})
    batch = Batch.objects.create(partner=partner)
    candidates = [candidate_from_json(json.dumps(e).encode()) for e in events]
    for start in range(0, len(candidates), 5000):
        events_ingest(
            partner=partner,
            batch=batch,
            candidates=candidates[start : start + 5000],
            catalogue=catalogue,
        )
    return len(events)


def _spend_in_xiangyang(people: list[User]) -> int:
    """Citizens who earned in Wuhan and Yichang spend at Longzhong Books."""
    scenario = Scenario.objects.filter(
        merchant__region_id=XIANGYANG, merchant__status=Merchant.Status.APPROVED
    ).first()
    spent = 0
    for user in people[::2]:
        if scenario is None:
            break
        try:
            redemption_create(
                citizen=user.carbon_account,
                scenario_id=scenario.pk,
                idempotency_key="demo-xiangyang",
            )
            spent += 1
        except SpendRefused:  # not enough points, or a limit: the demo goes on
            continue
    return spent
