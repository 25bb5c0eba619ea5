from django.urls import path

from . import views

urlpatterns = [path("regions", views.RegionsView.as_view(), name="regions")]
