import django_filters

from ..models import Notification


class MyNotificationsFilter(django_filters.FilterSet):
    """``/me/notifications``: all, or only the unread ones."""

    unread = django_filters.BooleanFilter(help_text="only unread ones")

    class Meta:
        model = Notification
        fields: list[str] = []
