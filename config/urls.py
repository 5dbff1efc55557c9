from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.http import require_safe
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import views as api_views
from api.renderers import StripeJSONRenderer

admin.site.site_header = "payintents console"
admin.site.site_title = "payintents console"
admin.site.index_title = "Payments, webhooks and accounts"

urlpatterns = [
    path("healthz", api_views.HealthView.as_view(), name="healthz"),
    path("readyz", api_views.ReadyView.as_view(), name="readyz"),
    path(
        "openapi.json",
        SpectacularAPIView.as_view(
            renderer_classes=[StripeJSONRenderer], authentication_classes=[], permission_classes=[]
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
            SpectacularSwaggerSplitView.as_view(
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
    # Anything else: the JSON 404 of the error envelope, never an HTML page.
    re_path(r"^.*$", api_views.not_found),
]

handler400 = "api.views.handler400"
handler403 = "api.views.handler403"
handler404 = "api.views.handler404"
handler500 = "api.views.handler500"
