import factory

from accounts.models import Role, User
from accounts.services import carbon_account_open
from carbonpoints.ledger.models import LedgerAccount, Unit


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
