from django.urls import path

from . import views

urlpatterns = [path("me/badges", views.MyBadgesView.as_view(), name="me-badges")]
