from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BudgetsConfig(AppConfig):
    name = "carbonpoints.budgets"
    label = "budgets"
    verbose_name = _("Sponsors and budgets")
