import django_filters

from redemption.models import Scenario


class ScenarioCatalogueFilter(django_filters.FilterSet):
    """``/scenarios``: by kind, merchant, and only what the citizen's balance buys now."""

    kind = django_filters.ChoiceFilter(choices=Scenario.Kind.choices)
    merchant = django_filters.NumberFilter(min_value=1)
    affordable = django_filters.BooleanFilter(help_text="Only what my balance buys now.")

    class Meta:
        model = Scenario
        fields: list[str] = []
