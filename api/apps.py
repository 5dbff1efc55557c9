from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API dialect"

    def ready(self):
        from core import checks  # noqa: F401  (registers the production settings' deploy checks)

        from . import schema  # noqa: F401  (registers the OpenAPI authentication extension)
