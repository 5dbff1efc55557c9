"""The operator's console for events and webhooks. Actions call the same services the API
calls, with the objects they act on (which carry their own account and mode)."""

from django.contrib import admin, messages

from core.errors import InvalidRequestError

from . import services
from .models import Delivery, DeliveryAttempt, Event, WebhookEndpoint


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "type",
        "account",
        "livemode",
        "created",
        "pending_webhooks",
        "relayed_at",
    )
    list_filter = ("type", "livemode")
    search_fields = ("id", "object_id")
    readonly_fields = [f.name for f in Event._meta.fields]
    actions = ["resend"]

    @admin.action(description="Resend to every matching enabled endpoint")
    def resend(self, request, queryset):
        for event in queryset:
            services.event_resend(event=event)
        messages.info(request, f"{queryset.count()} event(s) queued for resending.")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("id", "url", "account", "livemode", "status", "failing_since", "created")
    list_filter = ("status", "livemode")
    search_fields = ("id", "url")
    exclude = ("secret", "previous_secret")
    readonly_fields = ("id", "account", "livemode", "created", "api_version", "failing_since")


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fk_name = "delivery"
    extra = 0
    can_delete = False
    fields = ("created", "http_status", "succeeded", "latency_ms", "error", "response_excerpt")
    readonly_fields = fields


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "event",
        "endpoint",
        "status",
        "attempt_count",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status",)
    search_fields = ("id", "event__id", "endpoint__id")
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [DeliveryAttemptInline]
    actions = ["resend"]

    @admin.action(description="Resend now")
    def resend(self, request, queryset):
        count = 0
        for delivery in queryset.select_related("event", "endpoint"):
            try:
                services.event_resend(event=delivery.event, endpoint=delivery.endpoint)
            except InvalidRequestError:
                continue  # the endpoint is disabled (the service's rule, not repeated here)
            count += 1
        messages.info(request, f"{count} deliver(y/ies) queued; disabled endpoints skipped.")


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    list_display = ("id", "event", "endpoint", "http_status", "succeeded", "latency_ms", "created")
    list_filter = ("succeeded", "livemode")
    search_fields = ("id", "event__id", "endpoint__id")
    readonly_fields = [f.name for f in DeliveryAttempt._meta.fields]
