"""Demo merchants, their managers and cashiers, and a few scenarios each (safe to run again)."""

from collections.abc import Callable

from django.utils import timezone

from accounts.models import CarbonAccount, User

from .exceptions import SpendRefused
from .models import Merchant, MerchantStaff, Redemption, Scenario
from .services import (
    clearing_post,
    merchant_create,
    redemption_create,
    scenario_create,
    settlements_run,
    staff_add,
    voucher_consume,
)

MERCHANTS = [
    (
        "绿色便利店 Green Mart",
        "manager@greenmart.demo.carbonpoints.cn",
        "cashier@greenmart.demo.carbonpoints.cn",
    ),
    (
        "骑行咖啡 Cycle Café",
        "manager@cyclecafe.demo.carbonpoints.cn",
        "cashier@cyclecafe.demo.carbonpoints.cn",
    ),
]

SCENARIOS = {
    0: [
        {
            "kind": "voucher",
            "title": "环保购物袋 Reusable shopping bag",
            "points_cost": 300,
            "stock": 200,
            "per_citizen_limit": 2,
        },
        {
            "kind": "points_offset",
            "title": "积分抵现 Points off your bill",
            "points_per_yuan": 100,
            "max_share_bp": 3000,
        },
        {"kind": "donation", "title": "种一棵树 Plant a tree", "points_cost": 500},
    ],
    1: [
        {
            "kind": "voucher",
            "title": "免费美式 Free americano",
            "points_cost": 800,
            "stock": 50,
            "per_citizen_daily_limit": 1,
        },
        {
            "kind": "points_offset",
            "title": "积分抵现 Points off your bill",
            "points_per_yuan": 100,
            "max_share_bp": 2000,
        },
    ],
}


def seed(*, password: str, citizens: int, log: Callable[[str], None]) -> dict[str, str]:
    for index, (name, manager_email, cashier_email) in enumerate(MERCHANTS):
        merchant = Merchant.objects.filter(name=name).first()
        if merchant is None:
            merchant, _ = merchant_create(name=name, manager_email=manager_email)
            manager = User.objects.get(email=manager_email)
            manager.set_password(password)
            manager.save(update_fields=["password"])
        if not User.objects.filter(email=cashier_email).exists():
            staff_add(
                merchant=merchant,
                email=cashier_email,
                role=MerchantStaff.Role.CASHIER,
                password=password,
            )
        for spec in SCENARIOS.get(index, []):
            if not Scenario.objects.filter(merchant=merchant, title=spec["title"]).exists():
                scenario_create(merchant=merchant, **spec)  # type: ignore[arg-type]  # specs are literals above
    log(f"{len(MERCHANTS)} merchants with {Scenario.objects.count()} scenarios")
    log(f"{_redeem_some()} redemptions by citizens who have earned points")
    settled = settlements_run(day=timezone.localdate())
    log(f"{settled} merchants settled today through the ledger")
    return {"merchant": MERCHANTS[0][1], "cashier": MERCHANTS[0][2]}


def _redeem_some(citizens: int = 12) -> int:
    """A few citizens spend their points (every second voucher is used at the till), so the
    console's charts and settlements have something to show. The keys make a rerun a no-op."""
    scenarios = list(
        Scenario.objects.filter(
            merchant__name__in=[name for name, *_ in MERCHANTS],
            kind__in=[Scenario.Kind.VOUCHER, Scenario.Kind.DONATION],
        ).order_by("pk")
    )
    accounts = CarbonAccount.objects.filter(user__email__endswith="@demo.carbonpoints.cn").order_by(
        "pk"
    )[:citizens]
    for n, account in enumerate(accounts):
        scenario = scenarios[n % len(scenarios)]
        try:
            redemption = redemption_create(
                citizen=account, scenario_id=scenario.pk, idempotency_key=f"demo-{scenario.pk}"
            )
        except SpendRefused:
            continue  # not enough points yet, limit reached or sold out: the demo goes on
        voucher = getattr(redemption, "voucher", None)
        if voucher and n % 2 == 0 and voucher.consumed_at is None:
            cashier = MerchantStaff.objects.filter(
                merchant=scenario.merchant, role=MerchantStaff.Role.CASHIER
            ).first()
            if cashier is not None:
                voucher_consume(staff=cashier, code=voucher.code)
    return Redemption.objects.filter(citizen__in=accounts).count()


def clear(*, password: str, citizens: int, log: Callable[[str], None]) -> dict[str, str]:
    """The clearing between cities of every demo spend, as the nightly job posts it, so the
    month's statement (/operators/clearing/) shows real figures at once."""
    from carbonpoints.regions.demo import yichang_residents

    cafe = (
        Scenario.objects.filter(merchant__name=MERCHANTS[1][0], kind=Scenario.Kind.VOUCHER)
        .order_by("points_cost")
        .first()
    )
    for user in yichang_residents(citizens):
        if cafe is None:
            break
        try:  # Yichang's points spent in Wuhan: Yichang owes Wuhan
            redemption_create(
                citizen=user.carbon_account, scenario_id=cafe.pk, idempotency_key="demo-wuhan"
            )
        except SpendRefused:
            continue
    posted = clearing_post()
    log(f"{posted} spends cleared between regions through the ledger")
    return {}
