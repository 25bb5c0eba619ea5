import django_filters

from carbonpoints.api.filters import OffsetDateTimeFilter

from ..models import ActionRecord, ActionState


class MyActionsFilter(django_filters.FilterSet):
    """``/me/actions``: by time (``occurred_after`` inclusive, ``occurred_before`` exclusive),
    action type and state."""

    occurred_after = OffsetDateTimeFilter(help_text="inclusive")
    occurred_before = OffsetDateTimeFilter(help_text="exclusive")
    action = django_filters.CharFilter()
    state = django_filters.ChoiceFilter(choices=ActionState.choices)

    class Meta:
        model = ActionRecord
        fields: list[str] = []
