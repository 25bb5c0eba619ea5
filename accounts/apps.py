from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("People and carbon accounts")

    def ready(self) -> None:
        from allauth.usersessions.models import UserSession

        # allauth names its sessions' model without translation: the admin would show English
        UserSession._meta.verbose_name = _("user session")
        UserSession._meta.verbose_name_plural = _("user sessions")
        from . import (
            schema,  # noqa: F401  (registers the OpenAPI description of the app token)
            signals,  # noqa: F401  (cached users forgotten when they change)
        )
