from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MethodologiesConfig(AppConfig):
    name = "carbonpoints.methodologies"
    label = "methodologies"
    verbose_name = _("methodologies")
