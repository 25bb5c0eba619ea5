from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EarnConfig(AppConfig):
    """The earn side: partner feeds, intake, verification and crediting."""

    name = "carbonpoints.earn"
    label = "earn"
    verbose_name = _("partner feeds and crediting")

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the OpenAPI description of the signature)
