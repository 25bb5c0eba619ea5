from django.urls import path

from . import views

urlpatterns = [
    path("operators/dashboard/", views.dashboard, name="operator-dashboard"),
    path("open-data/city.json", views.open_data_json, name="open-data-json"),
    path("open-data/city.csv", views.open_data_csv, name="open-data-csv"),
    path("operators/clearing/", views.clearing_now, name="operator-clearing-now"),
    path(
        "operators/clearing/<int:year>-<int:month>/",
        views.clearing_page,
        name="operator-clearing",
    ),
    path(
        "operators/clearing/<int:year>-<int:month>.pdf",
        views.clearing_pdf_file,
        name="operator-clearing-pdf",
    ),
    path(
        "operators/clearing/<int:year>-<int:month>.csv",
        views.clearing_csv,
        name="operator-clearing-csv",
    ),
]
