from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClaimsConfig(AppConfig):
    """Claims for missing records: a citizen's word, a partner's answer, a record through intake."""

    name = "carbonpoints.claims"
    label = "claims"
    verbose_name = _("claims")
