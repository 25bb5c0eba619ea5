from django.urls import path  # noqa: F401  (routes arrive with the redemption issue)

urlpatterns: list = []
