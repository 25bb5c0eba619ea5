"""Citizen and merchant endpoints of the spend side: thin, the work is in services.

A view is its permissions, an input serializer (or a FilterSet), one service or selector call,
and an output serializer; refusals are domain errors, answered by the one exception handler.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import IsCitizen, citizen_of
from carbonpoints.api.filters import filter_parameters, query_params
from carbonpoints.api.lean import AppAPIView, AppCall
from carbonpoints.api.schema import errors
from carbonpoints.api.throttling import CountsFailures
from redemption import offsets, selectors, services
from redemption.exceptions import (
    CertificateNotFound,
    IdempotencyKeyRequired,
    IdempotencyKeyTooLong,
    ScenarioNotFound,
    SettlementNotFound,
    VoucherNotFound,
)
from redemption.idempotency import idempotent_answer
from redemption.statements import statement_download

from . import serializers as s
from .filters import ScenarioCatalogueFilter
from .permissions import IsMerchantManager, IsMerchantManagerToWrite, IsMerchantStaff
from .throttling import WRONG_CODE_THROTTLES, PaymentCodeThrottle

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="Made by the client, reused on retry (1–100 characters): the same key answers the same body.",
)
QR = OpenApiParameter(
    "qr",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    enum=["svg", "none"],
    required=False,
    description=(
        "`svg` (the default): the voucher carries `qr_svg`, its QR drawn as inline SVG. `none`: "
        "no `qr_svg`, the app draws the QR from `code` itself (a smaller, cheaper answer)."
    ),
)
ERRORS = errors(403, 404, 409)


def _idempotency_key(request, *, required: bool) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        if required:
            raise IdempotencyKeyRequired()
        return None
    if len(key) > 100:
        raise IdempotencyKeyTooLong()
    return key


# --- citizen ---------------------------------------------------------------------------------


class ScenarioCatalogueView(AppCall, ListAPIView):
    serializer_class = s.ScenarioSerializer

    @extend_schema(
        tags=["citizen"],
        summary="What can be redeemed now",
        parameters=filter_parameters(ScenarioCatalogueFilter),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = query_params(ScenarioCatalogueFilter, self.request)
        citizen = getattr(self.request.user, "carbon_account", None)
        return selectors.scenario_catalogue_rows(
            kind=params["kind"] or None,
            merchant_id=int(params["merchant"]) if params["merchant"] else None,
            affordable_for=citizen_of(self.request.user) if params["affordable"] else None,
            region=selectors.catalogue_region(asked=params["region"] or None, citizen=citizen),
        )


class RedemptionsView(AppAPIView):
    permission_classes = [IsCitizen]

    @extend_schema(
        tags=["citizen"],
        summary="Redeem points in a scenario",
        parameters=[IDEMPOTENCY_KEY, QR],
        request=s.RedemptionRequestSerializer,
        responses={201: s.RedemptionSerializer, **ERRORS, **errors(400, 422)},
    )
    def post(self, request):
        citizen = request.user.carbon_account
        key = _idempotency_key(request, required=True)
        draw_qr = s.qr_wanted(request.query_params)
        body = s.RedemptionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        scenario_id = body.validated_data["scenario_id"]

        code, data = services.redemption_redeem_once(
            user=request.user,
            citizen=citizen,
            scenario_id=scenario_id,
            idempotency_key=key,
            answer=lambda redemption: s.RedemptionSerializer(redemption).data,
        )
        return Response(s.with_qr(data) if code == 201 and draw_qr else data, status=code)


class MyVouchersView(AppCall, ListAPIView):
    permission_classes = [IsCitizen]
    serializer_class = s.MyVoucherSerializer

    @extend_schema(tags=["citizen"], summary="My vouchers, newest first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.citizen_vouchers(citizen=self.request.user.carbon_account)


class PaymentCodesView(CountsFailures, AppAPIView):
    permission_classes = [IsCitizen]
    extra_throttle_classes = (PaymentCodeThrottle,)

    @extend_schema(
        tags=["citizen"],
        summary="A short-lived, single-use payment code to show at the till",
        request=None,
        responses={201: s.PaymentCodeSerializer},
    )
    def post(self, request):
        code = services.payment_code_issue(citizen=request.user.carbon_account)
        return Response(s.PaymentCodeSerializer(code).data, status=201)


# --- merchant --------------------------------------------------------------------------------


class MerchantScenariosView(APIView):
    permission_classes = [IsMerchantManagerToWrite]

    @extend_schema(
        tags=["merchant"],
        summary="The merchant's scenarios",
        responses=s.ScenarioSerializer(many=True),
    )
    def get(self, request):
        staff = request.staff
        return Response(
            s.ScenarioSerializer(
                selectors.merchant_scenarios(merchant=staff.merchant), many=True
            ).data
        )

    @extend_schema(
        tags=["merchant"],
        summary="Create a scenario (manager)",
        request=s.ScenarioCreateSerializer,
        responses={201: s.ScenarioCreatedSerializer, **errors(400, 403)},
    )
    def post(self, request):
        staff = request.staff
        body = s.ScenarioCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        scenario = services.scenario_create(
            merchant=staff.merchant, actor=request.user, **body.to_service_kwargs()
        )
        return Response(s.ScenarioCreatedSerializer(scenario).data, status=201)


class MerchantScenarioActionView(APIView):
    permission_classes = [IsMerchantManager]
    action_name = ""

    @extend_schema(
        tags=["merchant"],
        summary="Pause, resume or cancel a scenario (manager)",
        request=None,
        responses={200: s.ScenarioSerializer, **ERRORS},
    )
    def post(self, request, pk):
        staff = request.staff
        scenario = selectors.merchant_scenario(merchant=staff.merchant, scenario_id=pk)
        if scenario is None:
            raise ScenarioNotFound()
        scenario = services.scenario_transition(
            scenario=scenario, action=self.action_name, actor=request.user
        )
        return Response(s.ScenarioSerializer(scenario).data)


class VoucherCheckView(CountsFailures, APIView):
    permission_classes = [IsMerchantStaff]
    extra_throttle_classes = WRONG_CODE_THROTTLES
    failure_codes = frozenset({"not_found"})

    @extend_schema(
        tags=["merchant"],
        summary="Look a voucher up before consuming it",
        responses={200: s.ConsumedVoucherSerializer, **ERRORS},
    )
    def get(self, request, code):
        staff = request.staff
        voucher = selectors.merchant_voucher(merchant=staff.merchant, code=code)
        if voucher is None:
            raise VoucherNotFound()
        return Response(s.ConsumedVoucherSerializer(voucher).data)


class VoucherConsumeView(CountsFailures, APIView):
    permission_classes = [IsMerchantStaff]
    extra_throttle_classes = WRONG_CODE_THROTTLES
    failure_codes = frozenset({"not_found"})

    @extend_schema(
        tags=["merchant"],
        summary="Consume a voucher at the till (once)",
        request=None,
        responses={200: s.ConsumedVoucherSerializer, **ERRORS},
    )
    def post(self, request, code):
        voucher = services.voucher_consume(staff=request.staff, code=code)
        return Response(s.ConsumedVoucherSerializer(voucher).data)


class CheckoutsView(CountsFailures, APIView):
    permission_classes = [IsMerchantStaff]
    extra_throttle_classes = WRONG_CODE_THROTTLES
    failure_codes = frozenset({"payment_code_invalid"})

    @extend_schema(
        tags=["merchant"],
        summary="Recent checkouts of the merchant",
        responses=s.CheckoutSerializer(many=True),
    )
    def get(self, request):
        staff = request.staff
        return Response(
            s.CheckoutSerializer(
                selectors.merchant_checkouts(merchant=staff.merchant)[:100], many=True
            ).data
        )

    @extend_schema(
        tags=["merchant"],
        summary="Take points as part-payment with the citizen's payment code",
        parameters=[
            OpenApiParameter(
                "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False
            )
        ],
        request=s.CheckoutRequestSerializer,
        responses={201: s.CheckoutSerializer, **ERRORS, **errors(400, 422)},
    )
    def post(self, request):
        staff = request.staff
        body = s.CheckoutRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        params = dict(body.validated_data)

        def checkout(keep=None):
            return 201, s.CheckoutSerializer(services.checkout_create(staff=staff, **params)).data

        key = _idempotency_key(request, required=False)
        if key is None:
            code, data = checkout()
        else:
            code, data = idempotent_answer(
                user=request.user, scope="checkout", key=key, params=params, action=checkout
            )
        return Response(data, status=code)


class CheckoutReverseView(APIView):
    permission_classes = [IsMerchantStaff]

    @extend_schema(
        tags=["merchant"],
        summary="Reverse a checkout within the window (points go back)",
        request=None,
        responses={200: s.CheckoutSerializer, **ERRORS},
    )
    def post(self, request, pk):
        checkout = services.checkout_reverse(staff=request.staff, checkout_id=pk)
        return Response(s.CheckoutSerializer(checkout).data)


class SettlementsView(APIView):
    permission_classes = [IsMerchantManager]

    @extend_schema(
        tags=["merchant"],
        summary="Daily settlement statements (manager)",
        responses=s.SettlementSerializer(many=True),
    )
    def get(self, request):
        staff = request.staff
        return Response(
            s.SettlementSerializer(
                selectors.merchant_settlements(merchant=staff.merchant)[:400], many=True
            ).data
        )


def _statement(request, pk: int):
    settlement = selectors.merchant_settlement(
        merchant_id=request.staff.merchant_id, settlement_id=pk
    )
    if settlement is None:
        raise SettlementNotFound()
    return settlement


class SettlementView(APIView):
    permission_classes = [IsMerchantManager]

    @extend_schema(
        tags=["merchant"],
        summary="One settlement statement with the payments it settles (manager)",
        responses={200: s.SettlementStatementSerializer, **errors(403, 404)},
    )
    def get(self, request, pk):
        settlement = _statement(request, pk)
        unsettled = selectors.merchant_points_unsettled(merchant_id=request.staff.merchant_id)
        return Response(
            s.SettlementStatementSerializer(
                settlement, context={"points_unsettled": unsettled}
            ).data
        )


class SettlementFileView(APIView):
    """The statement as a CSV or PDF download (the console offers the same files)."""

    permission_classes = [IsMerchantManager]
    file_format = "csv"

    @extend_schema(
        tags=["merchant"],
        summary="Download a settlement statement as CSV or PDF (manager)",
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/pdf"): OpenApiTypes.BINARY,
            **errors(403, 404),
        },
    )
    def get(self, request, pk):
        return statement_download(_statement(request, pk), file_format=self.file_format)


class OffsetsView(APIView):
    permission_classes = [IsMerchantManagerToWrite]

    @extend_schema(
        tags=["merchant"],
        summary="The merchant's offset certificates",
        responses=s.OffsetCertificateListSerializer(many=True),
    )
    def get(self, request):
        staff = request.staff
        return Response(
            s.OffsetCertificateListSerializer(
                selectors.merchant_certificates(merchant=staff.merchant), many=True
            ).data
        )

    @extend_schema(
        tags=["merchant"],
        summary="Retire pooled reductions as an offset (manager)",
        request=s.OffsetRequestSerializer,
        responses={201: s.CertificateCreatedSerializer, **ERRORS},
    )
    def post(self, request):
        staff = request.staff
        body = s.OffsetRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        certificate = offsets.offset_retire(
            staff=staff,
            grams=body.validated_data["grams"],
            purpose=body.validated_data["purpose"],
            vintage=body.vintage_number(),
        )
        url = request.build_absolute_uri(f"/certificates/{certificate.id}")
        public = selectors.certificate_public(certificate, url=url)
        return Response(s.CertificateCreatedSerializer({"certificate": public}).data, status=201)


class StaffView(APIView):
    permission_classes = [IsMerchantManager]

    @extend_schema(
        tags=["merchant"],
        summary="The merchant's staff (manager)",
        responses=s.StaffSerializer(many=True),
    )
    def get(self, request):
        staff = request.staff
        return Response(
            s.StaffSerializer(selectors.merchant_staff(merchant=staff.merchant), many=True).data
        )

    @extend_schema(
        tags=["merchant"],
        summary="Add a cashier or manager (manager)",
        request=s.StaffCreateSerializer,
        responses={201: s.StaffCreatedSerializer},
    )
    def post(self, request):
        staff = request.staff
        body = s.StaffCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        member, password = services.staff_add(
            merchant=staff.merchant, actor=request.user, **body.validated_data
        )
        member.new_password = password  # shown once, in this answer
        return Response(s.StaffCreatedSerializer(member).data, status=201)


class PublicCertificateView(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        tags=["public"],
        summary="Verify an offset certificate",
        responses=s.PublicCertificateSerializer,
    )
    def get(self, request, pk):
        certificate = selectors.offset_certificate(certificate_id=pk)
        if certificate is None:
            raise CertificateNotFound()
        return Response(
            s.PublicCertificateSerializer(
                selectors.certificate_public(
                    certificate, url=request.build_absolute_uri(f"/certificates/{certificate.id}")
                )
            ).data
        )
