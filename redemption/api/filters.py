import django_filters

from redemption.models import Scenario


class ScenarioCatalogueFilter(django_filters.FilterSet):
    """``/scenarios``: by kind, merchant, and only what the citizen's balance buys now."""

    kind = django_filters.ChoiceFilter(choices=Scenario.Kind.choices)
    merchant = django_filters.NumberFilter(min_value=1)
    affordable = django_filters.BooleanFilter(help_text="Only what my balance buys now.")
    region = django_filters.CharFilter(
        max_length=6,
        help_text="Offered in this region (GB/T 2260 code): its merchants' and the province-wide "
        "scenarios; `all`: everywhere. Default: the citizen's home region; everywhere for others (added 2026-12).",
    )

    class Meta:
        model = Scenario
        fields: list[str] = []
