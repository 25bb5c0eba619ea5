"""Filters of the citizen's history pages (django-filter): action type, state, time."""

import django_filters
from django.utils.translation import gettext_lazy as _

from carbonpoints.earn.models import ActionRecord, ActionState
from carbonpoints.earn.selectors import scene_titles
from carbonpoints.methodologies.selectors import action_codes


class ActionHistoryFilter(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(label=_("Type"), choices=[], empty_label=_("All types"))
    state = django_filters.ChoiceFilter(
        label=_("State"), choices=ActionState.choices, empty_label=_("All states")
    )
    since = django_filters.DateFilter(
        field_name="occurred_at",
        lookup_expr="date__gte",
        label=_("From"),
        widget=django_filters.widgets.forms.DateInput(attrs={"type": "date"}),
    )
    until = django_filters.DateFilter(
        field_name="occurred_at",
        lookup_expr="date__lte",
        label=_("To"),
        widget=django_filters.widgets.forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = ActionRecord
        fields = ["action", "state", "since", "until"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["action"].extra["choices"] = list(
            scene_titles(codes=action_codes(), local=True).items()
        )
