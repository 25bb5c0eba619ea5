"""Merchant console and public certificate pages (server-rendered)."""

from django.urls import path  # noqa: F401  (pages arrive with the redemption issue)

urlpatterns: list = []
