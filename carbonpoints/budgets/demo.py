"""The demo city's sponsors: the city's own budget for every scene, and a bike-share company's
small budget for cycling that the demo's rides bring down to its throttle."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from accounts.demo import OPERATOR_EMAIL
from accounts.models import User

from .models import Budget, Reading, Sponsor
from .services import budget_deposit, budgets_watch

CITY = "武汉市生态环境局 Wuhan Ecology and Environment Bureau"  # the city whose metro and buses it funds
BIKES = "哈啰出行 Hello Bike (sponsor)"


def seed(*, password: str, citizens: int, log: Callable[[str], None]) -> dict[str, str]:
    if Sponsor.objects.filter(name=CITY).exists():
        log("already there")
        return {}
    operator = User.objects.get(email=OPERATOR_EMAIL)
    now = timezone.localtime()
    year_start = now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    city = Budget.objects.create(
        sponsor=Sponsor.objects.create(
            name=CITY, kind=Sponsor.Kind.CITY, website="https://hbj.wuhan.gov.cn/"
        ),
        name=f"{now.year} 市民碳普惠 citizens' points",
        starts_at=year_start,
        ends_at=year_start.replace(year=now.year + 1),
        warn_below_percent=20,
        throttle_below_percent=5,
        throttle=Budget.Throttle.SCALE,
    )
    budget_deposit(
        budget=city,
        points=20_000_000,
        yuan_fen=20_000_000,
        operator=operator,
        note="2026 budget, first tranche",
    )
    bikes = Budget.objects.create(
        sponsor=Sponsor.objects.create(name=BIKES, kind=Sponsor.Kind.COMPANY),
        name="绿色骑行季 green cycling season",
        starts_at=now - timedelta(days=30),
        ends_at=now + timedelta(days=60),
        actions=["bike_ride"],
        warn_below_percent=50,
        throttle_below_percent=25,
        throttle=Budget.Throttle.SCALE,
        throttle_factor="0.5",
    )
    budget_deposit(
        budget=bikes, points=6_000, yuan_fen=30_000, operator=operator, note="cycling season"
    )
    Reading.objects.filter(budget__in=[city, bikes]).update(taken_at=now - timedelta(days=7))
    log(f"2 sponsors; the city's budget of 20,000,000 points and {bikes.sponsor}'s for cycling")
    return {}


def watch(*, password: str, citizens: int, log: Callable[[str], None]) -> dict[str, str]:
    """After the demo's actions: a reading and the alerts of budgets running low."""
    alerts = budgets_watch()
    log(f"{len(alerts)} budget alert(s)" if alerts else "every budget funded")
    return {}
