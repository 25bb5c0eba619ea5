"""Citizen portal pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("me/", views.my_account, name="my-account"),
]
