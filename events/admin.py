"""The console's events and webhooks. Resending and turning an endpoint off and on call the same
services the API calls, as the operator, in the scope of the rows they act on (`Scope.of`).
A webhook endpoint's secret is never shown here."""

from __future__ import annotations

import json

from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.utils.html import format_html

from console.base import ConsoleAdmin, act, admin_link, utc
from core.scope import Scope

from . import services
from .models import Delivery, DeliveryAttempt, Event, WebhookEndpoint


class CausedByFilter(admin.SimpleListFilter):
    title = "caused by"
    parameter_name = "caused_by"

    def lookups(self, request, model_admin):
        return (("console", "an operator in the console"), ("api", "the API or a worker"))

    def queryset(self, request, queryset):
        if self.value() == "console":
            return queryset.filter(operator__isnull=False)
        if self.value() == "api":
            return queryset.filter(operator__isnull=True)
        return queryset


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fk_name = "event"
    extra = 0
    can_delete = False
    fields = ("delivery_link", "endpoint_url", "status", "attempt_count", "next_attempt_utc")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("endpoint")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="delivery")
    def delivery_link(self, delivery: Delivery) -> str:
        return admin_link(Delivery, delivery.id)

    @admin.display(description="endpoint")
    def endpoint_url(self, delivery: Delivery) -> str:
        return admin_link(WebhookEndpoint, delivery.endpoint_id, delivery.endpoint.url)

    @admin.display(description="next attempt (UTC)")
    def next_attempt_utc(self, delivery: Delivery) -> str:
        return utc(delivery.next_attempt_at)


@admin.action(description="Resend to every matching enabled endpoint")
def resend_event(modeladmin, request, queryset):
    for event in queryset:
        act(
            modeladmin,
            request,
            event,
            lambda event=event: services.event_resend(scope=Scope.of(event), event_id=event.id),
            lambda done: f"Queued for resending ({done.pending_webhooks} pending webhook(s)).",
        )


@admin.register(Event)
class EventAdmin(ConsoleAdmin):
    list_display = (
        "id",
        "type",
        "object_id",
        "operator",
        "request_id",
        "pending_webhooks",
        "account_link",
        "mode",
        "created_utc",
    )
    list_filter = ("type", CausedByFilter, "livemode", "created")
    search_fields = ("=id", "=object_id", "=request_id", "operator")
    date_hierarchy = "created"
    actions = [resend_event]
    object_actions = (("resend_event", "Resend"),)
    inlines = [DeliveryInline]
    fields = (
        "id",
        "type",
        "object_id",
        "request_id",
        "idempotency_key",
        "operator",
        "api_version",
        "pending_webhooks",
        "relayed_utc",
        "account_link",
        "mode",
        "created_utc",
        "data_json",
    )
    readonly_fields = fields

    @admin.display(description="relayed (UTC)")
    def relayed_utc(self, event: Event) -> str:
        return utc(event.relayed_at)

    @admin.display(description="data")
    def data_json(self, event: Event) -> str:
        return format_html("<pre>{}</pre>", json.dumps(event.data, indent=2, sort_keys=True))


def _set_disabled(modeladmin, request, queryset, disabled: bool) -> None:
    for endpoint in queryset:
        act(
            modeladmin,
            request,
            endpoint,
            lambda endpoint=endpoint: services.webhook_endpoint_update(
                scope=Scope.of(endpoint), webhook_endpoint_id=endpoint.id, disabled=disabled
            ),
            lambda done: f"Webhook endpoint {done.status}.",
        )


@admin.action(description="Disable the selected endpoints")
def disable(modeladmin, request, queryset):
    _set_disabled(modeladmin, request, queryset, True)


@admin.action(description="Enable the selected endpoints")
def enable(modeladmin, request, queryset):
    _set_disabled(modeladmin, request, queryset, False)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ConsoleAdmin):
    list_display = (
        "id",
        "url",
        "status",
        "events",
        "failing_since_utc",
        "account_link",
        "mode",
        "created_utc",
    )
    list_filter = ("status", "livemode", "created")
    search_fields = ("=id", "url", "description")
    actions = [disable, enable]
    object_actions = (("disable", "Disable"), ("enable", "Enable"))
    fields = (
        "id",
        "url",
        "status",
        "disabled_reason",
        "events",
        "description",
        "metadata",
        "api_version",
        "failing_since_utc",
        "account_link",
        "mode",
        "created_utc",
    )
    readonly_fields = fields

    @admin.display(description="enabled events")
    def events(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.enabled_events)

    @admin.display(description="failing since (UTC)", ordering="failing_since")
    def failing_since_utc(self, endpoint: WebhookEndpoint) -> str:
        return utc(endpoint.failing_since)


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fk_name = "delivery"
    extra = 0
    can_delete = False
    fields = ("created_utc", "http_status", "succeeded", "latency_ms", "error", "response_excerpt")
    readonly_fields = fields
    ordering = ("created",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="when (UTC)")
    def created_utc(self, attempt: DeliveryAttempt) -> str:
        return utc(attempt.created)


@admin.action(description="Resend now")
def resend_delivery(modeladmin, request, queryset):
    for delivery in queryset.select_related("event", "endpoint"):
        act(
            modeladmin,
            request,
            delivery,
            lambda delivery=delivery: services.event_resend(
                scope=Scope.of(delivery.event),
                event_id=delivery.event_id,
                webhook_endpoint_id=delivery.endpoint_id,
            ),
            lambda done: "Queued for resending.",
        )


@admin.register(Delivery)
class DeliveryAdmin(ConsoleAdmin):
    list_display = (
        "id",
        "event_link",
        "event_type",
        "endpoint_url",
        "status",
        "last_http_status",
        "attempt_count",
        "next_attempt_utc",
        "delivered_utc",
        "created_utc",
    )
    list_filter = ("status", "created")
    search_fields = ("=id", "=event__id", "=endpoint__id", "endpoint__url")
    list_select_related = ("event", "endpoint")
    actions = [resend_delivery]
    object_actions = (("resend_delivery", "Resend now"),)
    inlines = [DeliveryAttemptInline]
    fields = (
        "id",
        "event_link",
        "event_type",
        "endpoint_url",
        "status",
        "attempt_count",
        "next_attempt_utc",
        "delivered_utc",
        "created_utc",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        last = DeliveryAttempt.objects.filter(delivery=OuterRef("pk")).order_by("-created", "-id")
        return (
            super()
            .get_queryset(request)
            .select_related("event", "endpoint")
            .annotate(last_http_status=Subquery(last.values("http_status")[:1]))
        )

    @admin.display(description="event", ordering="event_id")
    def event_link(self, delivery: Delivery) -> str:
        return admin_link(Event, delivery.event_id)

    @admin.display(description="type")
    def event_type(self, delivery: Delivery) -> str:
        return delivery.event.type

    @admin.display(description="endpoint")
    def endpoint_url(self, delivery: Delivery) -> str:
        return admin_link(WebhookEndpoint, delivery.endpoint_id, delivery.endpoint.url)

    @admin.display(description="last HTTP status")
    def last_http_status(self, delivery: Delivery):
        return delivery.last_http_status or "—"

    @admin.display(description="next attempt (UTC)", ordering="next_attempt_at")
    def next_attempt_utc(self, delivery: Delivery) -> str:
        return utc(delivery.next_attempt_at)

    @admin.display(description="delivered (UTC)", ordering="delivered_at")
    def delivered_utc(self, delivery: Delivery) -> str:
        return utc(delivery.delivered_at)


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ConsoleAdmin):
    list_display = (
        "id",
        "event_link",
        "event_type",
        "endpoint_link",
        "http_status",
        "succeeded",
        "latency_ms",
        "error",
        "mode",
        "created_utc",
    )
    list_filter = ("succeeded", "http_status", "livemode", "created")
    search_fields = ("=id", "=event__id", "=endpoint__id", "event_type")
    fields = (
        "id",
        "delivery_link",
        "event_link",
        "event_type",
        "endpoint_link",
        "http_status",
        "succeeded",
        "latency_ms",
        "error",
        "response_excerpt",
        "next_attempt_utc",
        "account_link",
        "mode",
        "created_utc",
    )
    readonly_fields = fields

    @admin.display(description="delivery")
    def delivery_link(self, attempt: DeliveryAttempt) -> str:
        return admin_link(Delivery, attempt.delivery_id)

    @admin.display(description="event", ordering="event_id")
    def event_link(self, attempt: DeliveryAttempt) -> str:
        return admin_link(Event, attempt.event_id)

    @admin.display(description="endpoint", ordering="endpoint_id")
    def endpoint_link(self, attempt: DeliveryAttempt) -> str:
        return admin_link(WebhookEndpoint, attempt.endpoint_id)

    @admin.display(description="next attempt (UTC)")
    def next_attempt_utc(self, attempt: DeliveryAttempt) -> str:
        return utc(attempt.next_attempt_at)
