"""Spend-side factories: merchants and staff, scenarios, points and pooled grams for citizens."""

import factory

from accounts.ledger_accounts import POINTS, REDUCTION, pool_account_key
from carbonpoints.ledger.models import Unit
from carbonpoints.ledger.services import Leg, ledger_account_get_or_create, transaction_post
from redemption.models import Merchant, MerchantStaff, Scenario
from tests.factories import UserFactory


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"Shop {n}")
    status = Merchant.Status.APPROVED


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MerchantStaff

    merchant = factory.SubFactory(MerchantFactory)
    user = factory.SubFactory(UserFactory, role="merchant_staff")
    role = MerchantStaff.Role.MANAGER


class CashierFactory(StaffFactory):
    role = MerchantStaff.Role.CASHIER


class ScenarioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scenario

    merchant = factory.SubFactory(MerchantFactory)
    kind = Scenario.Kind.VOUCHER
    title = factory.Sequence(lambda n: f"Free coffee {n}")
    points_cost = 100
    stock = 10
    stock_left = factory.SelfAttribute("stock")
    status = Scenario.Status.LIVE


class PointsOffsetScenarioFactory(ScenarioFactory):
    kind = Scenario.Kind.POINTS_OFFSET
    title = "Points off your bill"
    points_cost = None
    points_per_yuan = 100
    max_share_bp = 3000
    stock = None


def give_points(user, points: int) -> None:
    """Credit a citizen from a test-side source, as crediting would."""
    source = ledger_account_get_or_create(
        kind="test_points_source", unit=Unit.POINTS, allow_negative=True
    )
    kind, unit = POINTS
    wallet = ledger_account_get_or_create(kind=kind, unit=unit, owner_id=user.carbon_account.pk)
    transaction_post(kind="test_credit", legs=[Leg(source, -points), Leg(wallet, points)])


def fill_pool(methodology: str, year: int, month: int, grams: int) -> None:
    """Put grams into one offset pool account, as crediting would: the same grams go to a
    contributor's reduction (an anonymous one, owner 0), so contribution = claim holds."""
    source = ledger_account_get_or_create(
        kind="test_grams_source", unit=Unit.GRAMS, allow_negative=True
    )
    pool = ledger_account_get_or_create(
        **pool_account_key(methodology_code=methodology, vintage_year=year, vintage_month=month)
    )
    contributor = ledger_account_get_or_create(**REDUCTION.of(0)._asdict())
    transaction_post(
        kind="test_pool", legs=[Leg(source, -2 * grams), Leg(pool, grams), Leg(contributor, grams)]
    )


def points_of(user) -> int:
    kind, unit = POINTS
    return ledger_account_get_or_create(
        kind=kind, unit=unit, owner_id=user.carbon_account.pk
    ).balance
