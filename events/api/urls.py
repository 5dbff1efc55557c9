from django.urls import path

from . import views

urlpatterns = [
    path("events", views.EventListView.as_view(), name="event-list"),
    path("events/<str:id>", views.EventDetailView.as_view(), name="event-detail"),
    path("events/<str:id>/resend", views.EventResendView.as_view(), name="event-resend"),
    path(
        "events/<str:id>/deliveries", views.EventDeliveriesView.as_view(), name="event-deliveries"
    ),
    path("webhook_endpoints", views.WebhookEndpointListView.as_view(), name="webhook-list"),
    path(
        "webhook_endpoints/<str:id>",
        views.WebhookEndpointDetailView.as_view(),
        name="webhook-detail",
    ),
    path(
        "webhook_endpoints/<str:id>/roll_secret",
        views.WebhookEndpointRollSecretView.as_view(),
        name="webhook-roll-secret",
    ),
    path(
        "webhook_endpoints/<str:id>/deliveries",
        views.WebhookEndpointDeliveriesView.as_view(),
        name="webhook-deliveries",
    ),
]
