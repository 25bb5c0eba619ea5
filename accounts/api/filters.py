import django_filters

from accounts.selectors import ACCOUNT_NAMES
from carbonpoints.api.filters import OffsetDateTimeFilter
from carbonpoints.ledger.models import Posting, Unit


class MyLedgerFilter(django_filters.FilterSet):
    """``/me/ledger``: by unit, account, transaction kind and time (``since`` inclusive,
    ``until`` exclusive)."""

    unit = django_filters.ChoiceFilter(choices=Unit.choices)
    account = django_filters.ChoiceFilter(
        choices=[(name, name) for name in sorted(ACCOUNT_NAMES.values())]
    )
    kind = django_filters.CharFilter(help_text="transaction kind, e.g. earn_credit")
    since = OffsetDateTimeFilter(help_text="inclusive")
    until = OffsetDateTimeFilter(help_text="exclusive")

    class Meta:
        model = Posting
        fields: list[str] = []
