from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API dialect"

    def ready(self):
        from . import schema  # noqa: F401  (registers the OpenAPI authentication extension)
