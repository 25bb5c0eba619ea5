from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "carbonpoints.api"
    label = "api"
    verbose_name = "API"
