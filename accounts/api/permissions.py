"""Who may call the citizen API."""

from rest_framework.permissions import BasePermission

from accounts.exceptions import NotACitizen


class IsCitizen(BasePermission):
    """A signed-in person with a carbon account; other roles get 403 ``not_a_citizen``."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False  # 401 not_authenticated
        if getattr(request.user, "carbon_account", None) is None:
            raise NotACitizen()
        return True
