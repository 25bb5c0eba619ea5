from datetime import timedelta

import factory

from accounts.models import Role, User
from accounts.services import carbon_account_open
from carbonpoints.ledger.models import LedgerAccount, Unit


def accruals_posted() -> int:
    """Run the accrual job, as beat does every minute: credits' postings are in the ledger after it
    (a no-op with ``EARN_ACCRUALS`` off, when they are posted at once)."""
    from accounts.services import accruals_post

    return accruals_post()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.cn")
    role = Role.CITIZEN
    password = factory.django.Password("correct-horse-battery")


class CitizenFactory(UserFactory):
    @factory.post_generation
    def carbon_account(obj, create, extracted, **kwargs):
        if create:
            carbon_account_open(user=obj)


class LedgerAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LedgerAccount

    kind = "test_account"
    owner_id = factory.Sequence(lambda n: n + 1)
    unit = Unit.POINTS
    allow_negative = False


class SourceAccountFactory(LedgerAccountFactory):
    kind = "test_issuance"
    allow_negative = True


class SponsorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "budgets.Sponsor"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Sponsor {n}")


class BudgetFactory(factory.django.DjangoModelFactory):
    """A budget in force from a year ago to a year ahead, for every scene, with nothing deposited."""

    class Meta:
        model = "budgets.Budget"

    sponsor = factory.SubFactory(SponsorFactory)
    name = factory.Sequence(lambda n: f"Budget {n}")
    starts_at = factory.LazyFunction(lambda: _now() - timedelta(days=365))
    ends_at = factory.LazyFunction(lambda: _now() + timedelta(days=365))


def _now():
    from django.utils import timezone

    return timezone.now()


def funded_budget(*, points: int = 10**9, yuan_fen: int | None = None, **fields):
    """A budget in force with ``points`` deposited (at 0.01 CNY a point unless ``yuan_fen`` says)."""
    from carbonpoints.budgets.services import budget_deposit

    budget = BudgetFactory(**fields)
    budget_deposit(
        budget=budget,
        points=points,
        yuan_fen=points if yuan_fen is None else yuan_fen,
        operator=None,
        note="test funding",
    )
    return budget


def city_version(
    *,
    region_id: str = "420500",
    code: str = "metro_ride",
    version: int = 7,
    title: str = "Yichang metro (demo data)",
    baseline: str = "60",
    project: str = "0",
    valid_from=None,
    status=None,
):
    """A city's own version of a methodology (Yichang's metro unless told), in force since a month
    ago unless told; its factor is demo data, as the demo's Yichang version says of its own."""
    from decimal import Decimal

    from django.utils import timezone

    from carbonpoints.methodologies.models import Methodology

    return Methodology.objects.create(
        code=code,
        version=version,
        region_id=region_id,
        title=title,
        unit="km",
        baseline_g_per_unit=Decimal(baseline),
        project_g_per_unit=Decimal(project),
        basis="estimate",
        source="Demo data, not a published factor.",
        valid_from=valid_from or timezone.now() - timedelta(days=30),
        status=status or Methodology.Status.IN_FORCE,
    )
