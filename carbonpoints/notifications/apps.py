from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """The citizen's in-app inbox, filled by workers from what changed (never in a request)."""

    name = "carbonpoints.notifications"
    label = "notifications"
    verbose_name = _("notifications")
