"""Cached reads of people forgotten when their rows change (``carbonpoints.readcache``)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .authentication import USERS
from .models import CarbonAccount, User


@receiver([post_save, post_delete], sender=User, dispatch_uid="accounts.user_forget")
def user_forget(sender, instance: User, **kwargs) -> None:
    USERS.forget(instance.pk)


@receiver([post_save, post_delete], sender=CarbonAccount, dispatch_uid="accounts.carbon_account_forget")
def carbon_account_forget(sender, instance: CarbonAccount, **kwargs) -> None:
    USERS.forget(instance.user_id)
