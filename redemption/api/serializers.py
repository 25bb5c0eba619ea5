from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from carbonpoints.api.fields import AmountField, AwareDateTimeField
from carbonpoints.api.plain import PlainSerializer, iso_datetime
from redemption.models import (
    Checkout,
    OffsetCertificate,
    Scenario,
    Settlement,
    SettlementLine,
    Voucher,
)
from redemption.selectors import qr_svg, scenario_row, voucher_state


class MerchantRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    region = serializers.CharField(source="region_id", help_text="GB/T 2260 code (added 2026-12).")


class ScenarioSerializer(PlainSerializer, serializers.ModelSerializer):
    # A scenario (a model) or a catalogue row (selectors.scenario_catalogue_rows), written
    # plainly. (No docstring: it would become the schema's description.)

    merchant = MerchantRefSerializer(read_only=True)
    max_share = serializers.SerializerMethodField(
        help_text='Largest share of a price points may pay, e.g. "0.3".'
    )

    class Meta:
        model = Scenario
        fields = [
            "id",
            "kind",
            "title",
            "description",
            "points_cost",
            "points_per_yuan",
            "max_share",
            "stock",
            "stock_left",
            "per_citizen_limit",
            "per_citizen_daily_limit",
            "valid_from",
            "valid_until",
            "status",
            "merchant",
            "province_wide",
        ]

    def get_max_share(self, obj) -> str | None:
        bp = obj["max_share_bp"] if isinstance(obj, dict) else obj.max_share_bp
        return None if bp is None else str(Decimal(bp) / 10_000)

    def plain(self, scenario: Scenario | dict) -> dict:
        row = scenario if isinstance(scenario, dict) else scenario_row(scenario)
        return {
            "id": row["id"],
            "kind": row["kind"],
            "title": row["title"],
            "description": row["description"],
            "points_cost": row["points_cost"],
            "points_per_yuan": row["points_per_yuan"],
            "max_share": self.get_max_share(row),
            "stock": row["stock"],
            "stock_left": row["stock_left"],
            "per_citizen_limit": row["per_citizen_limit"],
            "per_citizen_daily_limit": row["per_citizen_daily_limit"],
            "valid_from": iso_datetime(row["valid_from"]),
            "valid_until": iso_datetime(row["valid_until"]),
            "status": row["status"],
            "province_wide": row["province_wide"],
            "merchant": {
                "id": row["merchant_id"],
                "name": row["merchant__name"],
                "region": row["merchant__region"],
            },
        }


class ScenarioCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Scenario.Kind.choices)
    title = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    points_cost = AmountField(required=False, allow_null=True)
    points_per_yuan = AmountField(required=False, allow_null=True)
    max_share = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        min_value=Decimal("0.0001"),
        max_value=Decimal("1"),
        required=False,
        allow_null=True,
        help_text="0 < share ≤ 1, e.g. 0.3 (sent as a number or a string).",
    )
    stock = AmountField(
        min_value=0, required=False, allow_null=True, help_text="Omit for unlimited."
    )
    per_citizen_limit = AmountField(required=False, allow_null=True)
    per_citizen_daily_limit = AmountField(required=False, allow_null=True)
    valid_from = AwareDateTimeField(required=False, allow_null=True)
    valid_until = AwareDateTimeField(required=False, allow_null=True)
    voucher_valid_days = serializers.IntegerField(
        min_value=1, max_value=3650, required=False, default=30
    )
    province_wide = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Offer it in every city of the province, not only in the merchant's region: "
        "a city's merchant's scenario then waits for an operator's approval (pending_review). "
        "Added with regions.",
    )

    def to_service_kwargs(self) -> dict:
        data = dict(self.validated_data)
        share = data.pop("max_share", None)
        data["max_share_bp"] = None if share is None else int(share * 10_000)
        return data


class ScenarioCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()


class VoucherSerializer(serializers.ModelSerializer):
    qr_svg = serializers.SerializerMethodField(
        help_text="Inline SVG of the QR code holding the code."
    )

    class Meta:
        model = Voucher
        fields = ["code", "qr_svg", "expires_at"]

    def get_qr_svg(self, obj) -> str:
        return qr_svg(obj.code)


class RedemptionRequestSerializer(serializers.Serializer):
    scenario_id = serializers.IntegerField()


class RedemptionSerializer(PlainSerializer, serializers.Serializer):
    id = serializers.IntegerField()
    scenario_id = serializers.IntegerField()
    points_spent = serializers.IntegerField()
    voucher = serializers.SerializerMethodField()
    certificate_url = serializers.SerializerMethodField(
        help_text="Donations only: the citizen's certificate."
    )

    def plain(self, row: Any) -> dict[str, Any]:
        """What the declared fields write, without DRF's per-field calls (every sale builds it,
        inside its transaction: docs/performance/redeem.md, 2026-12-08)."""
        return {
            "id": row.id,
            "scenario_id": row.scenario_id,
            "points_spent": row.points_spent,
            "voucher": self.get_voucher(row),
            "certificate_url": self.get_certificate_url(row),
        }

    @extend_schema_field(VoucherSerializer(allow_null=True))
    def get_voucher(self, obj) -> dict | None:
        """Without ``qr_svg``: the view draws it after the commit (see ``with_qr``)."""
        voucher = getattr(obj, "voucher", None)
        if not voucher:
            return None
        return {"code": voucher.code, "expires_at": iso_datetime(voucher.expires_at)}

    def get_certificate_url(self, obj) -> str | None:
        if obj.scenario.kind != Scenario.Kind.DONATION:
            return None
        return f"/certificates/donations/{obj.public_id}"


class MyVoucherSerializer(serializers.ModelSerializer):
    redemption_id = serializers.IntegerField(source="redemption.id")
    scenario_id = serializers.IntegerField(source="redemption.scenario_id")
    title = serializers.CharField(source="redemption.scenario.title")
    merchant = serializers.CharField(source="redemption.scenario.merchant.name")
    points_spent = serializers.IntegerField(source="redemption.points_spent")
    state = serializers.SerializerMethodField()
    qr_svg = serializers.SerializerMethodField()

    class Meta:
        model = Voucher
        fields = [
            "redemption_id",
            "scenario_id",
            "title",
            "merchant",
            "points_spent",
            "code",
            "qr_svg",
            "expires_at",
            "consumed_at",
            "state",
        ]

    def get_state(self, obj) -> str:
        return voucher_state(obj)

    def get_qr_svg(self, obj) -> str:
        return qr_svg(obj.code)


class PaymentCodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    qr_svg = serializers.SerializerMethodField()
    expires_at = serializers.DateTimeField()

    def get_qr_svg(self, obj) -> str:
        return qr_svg(obj.code)


class ConsumedVoucherSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="redemption.scenario.title")
    points_spent = serializers.IntegerField(source="redemption.points_spent")
    state = serializers.SerializerMethodField()

    class Meta:
        model = Voucher
        fields = ["code", "title", "points_spent", "expires_at", "consumed_at", "state"]

    def get_state(self, obj) -> str:
        return voucher_state(obj)


class CheckoutRequestSerializer(serializers.Serializer):
    payment_code = serializers.CharField(max_length=32)
    amount_fen = AmountField(help_text="Order amount in fen (CNY cents).")
    points = AmountField(help_text="Points the citizen wants to use (at most).")
    scenario_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The points_offset scenario; default: the merchant's live one.",
    )


class CheckoutSerializer(serializers.ModelSerializer):
    amount_due_fen = serializers.IntegerField(read_only=True)

    class Meta:
        model = Checkout
        fields = [
            "id",
            "scenario_id",
            "amount_fen",
            "points_used",
            "discount_fen",
            "amount_due_fen",
            "status",
            "created_at",
            "reversed_at",
        ]


class SettlementSerializer(serializers.ModelSerializer):
    ledger_transaction_id = serializers.IntegerField(
        source="ledger_tx_id", allow_null=True, read_only=True
    )

    class Meta:
        model = Settlement
        fields = [
            "id",
            "day",
            "vouchers_consumed",
            "voucher_points",
            "checkouts",
            "checkout_points",
            "checkout_discount_fen",
            "points_total",
            "amount_fen",
            "ledger_transaction_id",
        ]


class SettlementLineSerializer(serializers.ModelSerializer):
    spend_transaction_id = serializers.IntegerField(source="spend_tx_id", read_only=True)

    class Meta:
        model = SettlementLine
        fields = [
            "kind",
            "reference",
            "spend_transaction_id",
            "occurred_at",
            "points",
            "rate_yuan_per_point",
            "rate_source",
            "amount_fen",
        ]


class SettlementStatementSerializer(SettlementSerializer):
    """A statement with the payments it settles and what the merchant still holds unsettled."""

    lines = SettlementLineSerializer(many=True, read_only=True)
    points_unsettled = serializers.SerializerMethodField()

    class Meta(SettlementSerializer.Meta):
        fields = [*SettlementSerializer.Meta.fields, "points_unsettled", "lines"]

    def get_points_unsettled(self, settlement: Settlement) -> int:
        return self.context["points_unsettled"]


class OffsetRequestSerializer(serializers.Serializer):
    grams = AmountField()
    purpose = serializers.CharField(max_length=255)
    vintage = serializers.RegexField(
        r"^\d{4}-(0[1-9]|1[0-2])$",
        required=False,
        allow_null=True,
        help_text="YYYY-MM: retire only from this vintage month.",
    )

    def vintage_number(self) -> int | None:
        vintage = self.validated_data.get("vintage")
        return int(vintage.replace("-", "")) if vintage else None


class SerialRangeSerializer(serializers.Serializer):
    methodology = serializers.CharField()
    vintage = serializers.CharField()
    first = serializers.CharField()
    last = serializers.CharField()
    grams = serializers.IntegerField()


class CertificateSerializer(serializers.Serializer):
    id = serializers.CharField()
    grams = serializers.IntegerField()
    purpose = serializers.CharField()
    serial_ranges = SerialRangeSerializer(many=True)
    url = serializers.CharField()


class CertificateCreatedSerializer(serializers.Serializer):
    certificate = CertificateSerializer()


class PublicCertificateSerializer(CertificateSerializer):
    merchant = serializers.CharField()
    retired_at = serializers.CharField()
    methodologies = serializers.ListField(child=serializers.CharField())
    vintages = serializers.ListField(child=serializers.CharField())
    ledger_transaction = serializers.IntegerField()
    verified = serializers.BooleanField()


class StaffSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField(source="user.email")
    role = serializers.CharField()


class StaffCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=["cashier", "manager"], default="cashier")


class StaffCreatedSerializer(StaffSerializer):
    password = serializers.CharField(source="new_password", help_text="Shown once.")


class OffsetCertificateListSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = OffsetCertificate
        fields = ["id", "grams", "purpose", "created_at", "url"]

    def get_url(self, obj) -> str:
        return f"/certificates/{obj.id}"


def qr_wanted(query: Any) -> bool:
    """``?qr=svg`` (the default) draws the voucher's QR into the answer; ``?qr=none`` leaves it to
    the app, which draws it from the code (drawing was 12 % of a redemption's CPU)."""
    asked = query.get("qr", "svg")
    if asked not in ("svg", "none"):
        raise serializers.ValidationError({"qr": ["svg or none"]})
    return bool(asked == "svg")


def with_qr(body: dict) -> dict:
    """The answer with the voucher's QR drawn in: done outside the redemption's row locks (drawing
    takes longer than the rest of a redemption) and deterministic, so a retry gets the same body."""
    voucher = body.get("voucher")
    if not voucher:
        return body
    return {
        **body,
        "voucher": {
            "code": voucher["code"],
            "qr_svg": qr_svg(voucher["code"]),
            "expires_at": voucher["expires_at"],
        },
    }
