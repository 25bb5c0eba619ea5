from rest_framework import serializers

from accounts.ledger_accounts import ACCRUAL_KIND, CREDIT_KIND_SEEN
from accounts.selectors import ACCOUNT_NAMES
from carbonpoints.api.plain import PlainSerializer, iso_datetime
from carbonpoints.ledger.models import Posting


class PointsSerializer(serializers.Serializer):
    available = serializers.IntegerField(help_text="Points that can be spent now.")
    pending = serializers.IntegerField(help_text="Points still in their settling period.")


class LevelSerializer(serializers.Serializer):
    """Levels are data (operators edit them in the admin), reached by trailing-12-month reduction."""

    code = serializers.CharField()
    name = serializers.CharField()
    min_g = serializers.IntegerField()
    next_code = serializers.CharField(allow_null=True)
    next_min_g = serializers.IntegerField(allow_null=True)
    to_next_g = serializers.IntegerField()
    trailing_12m_g = serializers.IntegerField(
        help_text="Verified reduction credited over the last 12 months, which sets the level."
    )


class RankSerializer(serializers.Serializer):
    position = serializers.IntegerField(
        allow_null=True, help_text="1 is the citizen with the most grams; null until first ranked."
    )
    of = serializers.IntegerField(allow_null=True, help_text="Citizens in the ranking.")
    ahead_of_percent = serializers.IntegerField(allow_null=True)
    as_of = serializers.DateTimeField(
        allow_null=True, help_text="Rankings are recomputed every few minutes."
    )


class AccountSerializer(PlainSerializer, serializers.Serializer):
    # selectors.carbon_account_summary is already the answer's shape, in JSON's types but for
    # the ranking's time: written plainly (the most frequent read of the app).
    reduction_g = serializers.IntegerField(
        help_text="Grams CO2e of verified reduction contributed."
    )
    points = PointsSerializer()
    level = LevelSerializer()
    rank = RankSerializer()
    points_owed = serializers.IntegerField(
        help_text="Points credited that wait until a sponsor's budget funds them; not in points yet (added 2026-12)."
    )
    home_region = serializers.CharField(
        help_text="The citizen's home region (GB/T 2260 code): their leaderboard and their catalogue's default; "
        "the default region until they choose one (added 2026-12)."
    )
    home_region_chosen = serializers.BooleanField(
        help_text="Whether the citizen chose their home region."
    )

    def plain(self, summary: dict) -> dict:
        return {
            **summary,
            "rank": {**summary["rank"], "as_of": iso_datetime(summary["rank"]["as_of"])},
        }


class AccountChangeSerializer(serializers.Serializer):
    home_region = serializers.CharField(
        allow_null=True,
        max_length=6,
        help_text="A GB/T 2260 code (GET /api/v1/regions); null: the default region.",
    )


class LedgerEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    kind = serializers.CharField(help_text="What moved it, e.g. earn_credit.")
    account = serializers.CharField(help_text="reduction, points or points_pending")
    unit = serializers.CharField(help_text="g (grams CO2e) or pt (points)")
    amount = serializers.IntegerField()
    balance_after = serializers.IntegerField(help_text="Running balance of that account.")
    reference = serializers.CharField()
    memo = serializers.CharField()

    def to_representation(self, posting: Posting) -> dict:
        return super().to_representation(
            {
                "id": posting.pk,
                "at": posting.created_at,
                "kind": CREDIT_KIND_SEEN
                if posting.transaction.kind == ACCRUAL_KIND
                else posting.transaction.kind,
                "account": ACCOUNT_NAMES.get(posting.account.kind, posting.account.kind),
                "unit": posting.unit,
                "amount": posting.amount,
                "balance_after": posting.balance_after,
                "reference": posting.transaction.reference,
                "memo": posting.transaction.memo,
            }
        )
