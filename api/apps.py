from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API dialect"
    # No `api.schema` here: drf-spectacular (a tenth of a second to import) registers its
    # OpenAPI extension when the views that use it are imported, which every schema generation
    # does by loading the URLs; a management command that needs no URL does not pay for it.

    def ready(self):
        from core import checks  # noqa: F401  (registers the production settings' deploy checks)
