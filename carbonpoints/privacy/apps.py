from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """A citizen's rights under PIPL: a copy of all their data, and deletion of their account.

    It sits above the earn and spend sides (like the portal) because a citizen's data spans them.
    """

    name = "carbonpoints.privacy"
    label = "privacy"
    verbose_name = _("personal data (PIPL)")
