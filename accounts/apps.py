from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("People and carbon accounts")

    def ready(self) -> None:
        from . import (
            schema,  # noqa: F401  (registers the OpenAPI description of the app token)
            signals,  # noqa: F401  (cached users forgotten when they change)
        )
