from django.urls import path

from . import views

urlpatterns = [
    path("me/export", views.MyExportView.as_view(), name="me-export"),
    path(
        "me/exports/<uuid:export_id>", views.MyExportStatusView.as_view(), name="me-export-status"
    ),
    path(
        "me/exports/<uuid:export_id>/download",
        views.MyExportDownloadView.as_view(),
        name="me-export-download",
    ),
    path("me/delete", views.MyDeleteView.as_view(), name="me-delete"),
]
