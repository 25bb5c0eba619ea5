from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "carbonpoints.ledger"
    label = "ledger"
    verbose_name = _("Ledger")

    def ready(self) -> None:
        from carbonpoints import lookups  # noqa: F401  (registers field__any)
