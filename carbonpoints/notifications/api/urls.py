from django.urls import path

from . import views

urlpatterns = [
    path("me/notifications", views.MyNotificationsView.as_view(), name="me-notifications"),
    path(
        "me/notifications/read",
        views.MyNotificationsReadView.as_view(),
        name="me-notifications-read",
    ),
]
