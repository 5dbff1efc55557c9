from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from api import views as api_views
from api.renderers import StripeJSONRenderer
from config import error_handlers


def spectacular(view_class: str, **initkwargs):
    """drf-spectacular's view `view_class`, imported on its first request: the package (and the
    test client it imports) is half a second of every process's start, each manage.py command,
    worker and web node, for two pages."""
    view = None

    @csrf_exempt
    def serve(request, *args, **kwargs):
        nonlocal view
        if view is None:
            from drf_spectacular import views  # noqa: PLC0415 (on first use)

            view = getattr(views, view_class).as_view(**initkwargs)
        return view(request, *args, **kwargs)

    return serve


admin.site.site_header = "payintents console"
admin.site.site_title = "payintents console"
admin.site.index_title = "Payments, webhooks and accounts"

urlpatterns = [
    path("healthz", api_views.HealthView.as_view(), name="healthz"),
    path("readyz", api_views.ReadyView.as_view(), name="readyz"),
    path(
        "openapi.json",
        spectacular(
            "SpectacularAPIView",
            renderer_classes=[StripeJSONRenderer],
            authentication_classes=[],
            permission_classes=[],
        ),
        name="openapi",
    ),
    # Swagger UI under the site's CSP: its start-up script served from /docs/?script= (the
    # split view) rather than inline, its inline style moved to a stylesheet (the template).
    # GET and HEAD only: the view renders a template for whatever it answers, which DRF's
    # OPTIONS metadata has none of (a 405 here instead).
    path(
        "docs/",
        require_safe(
            spectacular(
                "SpectacularSwaggerSplitView",
                url_name="openapi",
                template_name="docs/swagger_ui.html",
                authentication_classes=[],
                permission_classes=[],
            )
        ),
        name="docs",
    ),
    path("admin/", admin.site.urls),
    path("v1/", include("intents.api.urls")),
    path("v1/", include("payments.api.urls")),
    path("v1/", include("events.api.urls")),
    path("v1/", include("routing.api.urls")),
    path("v1/", include("checkout_pages.api.urls")),
    path("v1/", include("checkouts.api.urls")),
    path("paymongo/v1/", include("faces.paymongo.urls")),
    path("payload/", include("faces.payload.urls")),
    path("whenthen/", include("faces.whenthen.urls")),
    path("", include("intents.urls")),
    path("", include("checkout_pages.urls")),
    # Anything else: a 404 in the dialect of the prefix (config.error_handlers), never HTML.
    re_path(r"^.*$", error_handlers.handler404),
]

handler400 = "config.error_handlers.handler400"
handler403 = "config.error_handlers.handler403"
handler404 = "config.error_handlers.handler404"
handler500 = "config.error_handlers.handler500"
