from django.urls import path

from . import views

urlpatterns = [
    path("operators/dashboard/", views.dashboard, name="operator-dashboard"),
    path("open-data/city.json", views.open_data_json, name="open-data-json"),
    path("open-data/city.csv", views.open_data_csv, name="open-data-csv"),
    path(
        "operators/clearing/<int:year>-<int:month>.csv",
        views.clearing_csv,
        name="operator-clearing-csv",
    ),
]
