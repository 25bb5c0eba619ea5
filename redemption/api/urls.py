from django.urls import path

from . import views

urlpatterns = [
    # citizen
    path("scenarios", views.ScenarioCatalogueView.as_view(), name="scenarios"),
    path("redemptions", views.RedemptionsView.as_view(), name="redemptions"),
    path("me/vouchers", views.MyVouchersView.as_view(), name="api-me-vouchers"),
    path("me/payment-codes", views.PaymentCodesView.as_view(), name="me-payment-codes"),
    # merchant
    path(
        "merchant/scenarios", views.MerchantScenariosView.as_view(), name="api-merchant-scenarios"
    ),
    path(
        "merchant/scenarios/<int:pk>/pause",
        views.MerchantScenarioActionView.as_view(action_name="pause"),
    ),
    path(
        "merchant/scenarios/<int:pk>/resume",
        views.MerchantScenarioActionView.as_view(action_name="resume"),
    ),
    path(
        "merchant/scenarios/<int:pk>/cancel",
        views.MerchantScenarioActionView.as_view(action_name="cancel"),
    ),
    path(
        "merchant/vouchers/<str:code>",
        views.VoucherCheckView.as_view(),
        name="api-merchant-voucher",
    ),
    path(
        "merchant/vouchers/<str:code>/consume",
        views.VoucherConsumeView.as_view(),
        name="api-merchant-voucher-consume",
    ),
    path("merchant/checkouts", views.CheckoutsView.as_view(), name="api-merchant-checkouts"),
    path(
        "merchant/checkouts/<int:pk>/reverse",
        views.CheckoutReverseView.as_view(),
        name="api-merchant-checkout-reverse",
    ),
    path("merchant/settlements", views.SettlementsView.as_view(), name="api-merchant-settlements"),
    path(
        "merchant/settlements/<int:pk>",
        views.SettlementView.as_view(),
        name="api-merchant-settlement",
    ),
    path(
        "merchant/settlements/<int:pk>/csv",
        views.SettlementFileView.as_view(file_format="csv"),
        name="api-merchant-settlement-csv",
    ),
    path(
        "merchant/settlements/<int:pk>/pdf",
        views.SettlementFileView.as_view(file_format="pdf"),
        name="api-merchant-settlement-pdf",
    ),
    path("merchant/offsets", views.OffsetsView.as_view(), name="api-merchant-offsets"),
    path("merchant/staff", views.StaffView.as_view(), name="api-merchant-staff"),
    # public
    path("certificates/<uuid:pk>", views.PublicCertificateView.as_view(), name="api-certificate"),
]
