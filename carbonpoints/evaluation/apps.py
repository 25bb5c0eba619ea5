from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    """The carbon-account evaluation (碳账户评价) beyond levels: badges and the opt-in leaderboard.

    Badges read the citizen's actions (earn) and balances (ledger), so this sits above both."""

    name = "carbonpoints.evaluation"
    label = "evaluation"
    verbose_name = _("carbon-account evaluation")
