"""Cached reads of people and their accounts, forgotten when their rows change
(``carbonpoints.readcache``)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from carbonpoints.ledger.signals import balances_changed

from .authentication import USERS
from .ledger_accounts import CITIZEN_ACCOUNTS
from .models import CarbonAccount, CitizenRank, CitizenStanding, Level, User
from .selectors import SUMMARIES

_CITIZEN_KINDS = frozenset(kind for kind, _unit in CITIZEN_ACCOUNTS)


@receiver([post_save, post_delete], sender=User, dispatch_uid="accounts.user_forget")
def user_forget(sender, instance: User, **kwargs) -> None:
    USERS.forget(instance.pk)


@receiver(
    [post_save, post_delete], sender=CarbonAccount, dispatch_uid="accounts.carbon_account_forget"
)
def carbon_account_forget(sender, instance: CarbonAccount, **kwargs) -> None:
    USERS.forget(instance.user_id)
    SUMMARIES.forget(instance.pk)  # nothing cached under a new account's id may ever be served


@receiver(balances_changed, dispatch_uid="accounts.summaries_forget")
def summaries_forget(sender, owners: set[tuple[str, int]], **kwargs) -> None:
    """The ledger posted to these accounts: the citizens' summaries show other balances now."""
    SUMMARIES.forget_many({owner_id for kind, owner_id in owners if kind in _CITIZEN_KINDS})


@receiver([post_save, post_delete], sender=CitizenRank, dispatch_uid="accounts.rank_forget")
@receiver([post_save, post_delete], sender=CitizenStanding, dispatch_uid="accounts.standing_forget")
def summary_forget(sender, instance: CitizenRank | CitizenStanding, **kwargs) -> None:
    SUMMARIES.forget(instance.account_id)


@receiver([post_save, post_delete], sender=Level, dispatch_uid="accounts.levels_forget")
def summaries_forget_all(sender, **kwargs) -> None:
    SUMMARIES.forget_all()
