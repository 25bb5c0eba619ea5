from django.urls import path

from . import views

urlpatterns = [
    path("me/account", views.MyAccountView.as_view(), name="me-account"),
    path("me/ledger", views.MyLedgerView.as_view(), name="me-ledger"),
]
