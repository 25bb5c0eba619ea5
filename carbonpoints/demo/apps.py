from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "carbonpoints.demo"
    label = "demo"
    verbose_name = "Demo city"
