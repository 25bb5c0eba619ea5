"""Merchant console and public certificate pages (server-rendered)."""

from django.urls import path

from . import views

urlpatterns = [
    path("merchant/", views.till, name="merchant-till"),
    path("merchant/vouchers/consume", views.voucher_consume, name="merchant-voucher-consume-page"),
    path("merchant/checkouts", views.checkout_create, name="merchant-checkout-page"),
    path(
        "merchant/checkouts/<int:pk>/reverse",
        views.checkout_reverse,
        name="merchant-checkout-reverse-page",
    ),
    path("merchant/scenarios/", views.scenarios, name="merchant-scenarios"),
    path(
        "merchant/scenarios/<int:pk>/<str:action>",
        views.scenario_action,
        name="merchant-scenario-action",
    ),
    path("merchant/settlements/", views.settlements, name="merchant-settlements"),
    path("merchant/settlements.csv", views.settlements_csv, name="merchant-settlements-csv"),
    path(
        "merchant/settlements/<int:pk>.<str:file_format>",
        views.settlement_file,
        name="merchant-settlement-file",
    ),
    path("merchant/offsets/", views.offsets_page, name="merchant-offsets"),
    path("merchant/staff/", views.staff_page, name="merchant-staff"),
    path("me/wallet/", views.wallet, name="wallet"),
    path("me/wallet/redeem", views.wallet_redeem, name="wallet-redeem"),
    path("certificates/<uuid:pk>", views.certificate, name="certificate"),
    path(
        "certificates/donations/<uuid:public_id>",
        views.donation_certificate,
        name="donation-certificate",
    ),
]
