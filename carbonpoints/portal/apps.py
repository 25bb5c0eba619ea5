from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The citizen web portal: pages that read across the earn side, the ledger and accounts."""

    name = "carbonpoints.portal"
    label = "portal"
    verbose_name = _("Citizen portal")
