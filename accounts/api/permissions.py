"""Who may call the citizen API."""

from rest_framework.permissions import BasePermission

from accounts.exceptions import NotACitizen
from accounts.models import CarbonAccount


def citizen_of(user) -> CarbonAccount:
    """The user's carbon account, or ``NotACitizen`` (403) for other roles.

    ``IsCitizen`` guards citizen-only views; a view open to every role calls this for its
    citizen-only option (the catalogue's ``affordable``)."""
    account = getattr(user, "carbon_account", None)
    if account is None:
        raise NotACitizen()
    return account


class IsCitizen(BasePermission):
    """A signed-in person with a carbon account; other roles get 403 ``not_a_citizen``."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False  # 401 not_authenticated
        citizen_of(request.user)
        return True
