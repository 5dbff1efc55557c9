from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api.schema import path_id
from api.views import StripeAPIView, validated
from core.values import UNSET

from .. import selectors, services
from ..presenters import (
    delivery_attempt_to_api,
    event_to_api,
    webhook_endpoint_deleted_to_api,
    webhook_endpoint_to_api,
)
from . import serializers as s

EVENT_ID = path_id("event", "evt_")
ENDPOINT_ID = path_id("webhook endpoint", "we_")


class EventListView(StripeAPIView):
    @extend_schema(
        operation_id="GetEvents",
        summary="List events",
        description="The events of this account and mode (kept for the retention period), newest first, one page at a time; optionally of one type or several.",
        parameters=[s.EventListParams],
        responses=s.EventListSerializer,
    )
    def get(self, request):
        params = validated(s.EventListParams, self.params)
        queryset = selectors.event_list(
            scope=self.caller.scope, type=params.get("type"), types=params.get("types")
        )
        return self.paginated(
            queryset,
            params=params,
            url="/v1/events",
            present=event_to_api,
            object_name="event",
        )


class EventDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetEventsId",
        summary="Retrieve an event",
        description="One event: its type and the object as it was when the event happened.",
        parameters=[EVENT_ID],
        responses=s.EventSerializer,
    )
    def get(self, request, id: str):
        validated(s.EmptyParams, self.params)
        return Response(event_to_api(selectors.event_get(scope=self.caller.scope, id=id)))


class EventResendView(StripeAPIView):
    @extend_schema(
        operation_id="PostEventsIdResend",
        summary="Resend an event",
        description="Delivers the event again, now, to every enabled endpoint that wants its type, or to one `webhook_endpoint`.",
        parameters=[EVENT_ID],
        request=s.EventResendParams,
        responses=s.EventSerializer,
    )
    def post(self, request, id: str):
        params = validated(s.EventResendParams, self.params)
        event = services.event_resend(
            scope=self.caller.scope,
            event_id=id,
            webhook_endpoint_id=params.get("webhook_endpoint") or None,
        )
        return Response(event_to_api(event))


class EventDeliveriesView(StripeAPIView):
    @extend_schema(
        operation_id="GetEventsIdDeliveries",
        summary="List an event's delivery attempts",
        description="Every attempt to deliver this event to an endpoint, with the HTTP status received, newest first.",
        parameters=[EVENT_ID, s.ListParamsSerializer],
        responses=s.DeliveryAttemptListSerializer,
    )
    def get(self, request, id: str):
        params = validated(s.ListParamsSerializer, self.params)
        queryset = selectors.delivery_attempt_list(scope=self.caller.scope, event_id=id)
        return self.paginated(
            queryset,
            params=params,
            url=f"/v1/events/{id}/deliveries",
            present=delivery_attempt_to_api,
            object_name="webhook_delivery_attempt",
        )


class WebhookEndpointListView(StripeAPIView):
    @extend_schema(
        operation_id="GetWebhookEndpoints",
        summary="List webhook endpoints",
        description="The webhook endpoints of this account and mode, newest first, one page at a time.",
        parameters=[s.ListParamsSerializer],
        responses=s.WebhookEndpointListSerializer,
    )
    def get(self, request):
        params = validated(s.ListParamsSerializer, self.params)
        return self.paginated(
            selectors.webhook_endpoint_list(scope=self.caller.scope),
            params=params,
            url="/v1/webhook_endpoints",
            present=webhook_endpoint_to_api,
            object_name="webhook_endpoint",
        )

    @extend_schema(
        operation_id="PostWebhookEndpoints",
        summary="Create a webhook endpoint",
        description="Registers a URL to receive the events of `enabled_events`, signed with the endpoint's `secret` (answered only here and by roll_secret): a `Stripe-Signature` header and Standard Webhooks headers.",
        request=s.WebhookEndpointCreateParams,
        responses=s.WebhookEndpointSerializer,
    )
    def post(self, request):
        params = validated(s.WebhookEndpointCreateParams, self.params)
        endpoint = services.webhook_endpoint_create(
            scope=self.caller.scope,
            url=params["url"],
            enabled_events=params["enabled_events"],
            description=params.get("description"),
            metadata=params.get("metadata"),
        )
        return Response(webhook_endpoint_to_api(endpoint, with_secret=True))


class WebhookEndpointDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetWebhookEndpointsWebhookEndpoint",
        summary="Retrieve a webhook endpoint",
        description="The endpoint as it is now (without its secret).",
        parameters=[ENDPOINT_ID],
        responses=s.WebhookEndpointSerializer,
    )
    def get(self, request, id: str):
        validated(s.EmptyParams, self.params)
        return Response(
            webhook_endpoint_to_api(selectors.webhook_endpoint_get(scope=self.caller.scope, id=id))
        )

    @extend_schema(
        operation_id="PostWebhookEndpointsWebhookEndpoint",
        summary="Update a webhook endpoint",
        description="Changes its URL, events, description, metadata, or disables / enables it.",
        parameters=[ENDPOINT_ID],
        request=s.WebhookEndpointUpdateParams,
        responses=s.WebhookEndpointSerializer,
    )
    def post(self, request, id: str):
        params = validated(s.WebhookEndpointUpdateParams, self.params)
        endpoint = services.webhook_endpoint_update(
            scope=self.caller.scope,
            webhook_endpoint_id=id,
            url=params.get("url", UNSET),
            enabled_events=params.get("enabled_events", UNSET),
            description=params.get("description", UNSET),
            metadata=params.get("metadata", UNSET),
            disabled=params.get("disabled", UNSET),
        )
        return Response(webhook_endpoint_to_api(endpoint))

    @extend_schema(
        operation_id="DeleteWebhookEndpointsWebhookEndpoint",
        summary="Delete a webhook endpoint",
        description="Deletes the endpoint; nothing more is delivered to it.",
        parameters=[ENDPOINT_ID],
        responses={200: s.DeletedWebhookEndpointSerializer},
    )
    def delete(self, request, id: str):
        services.webhook_endpoint_delete(scope=self.caller.scope, webhook_endpoint_id=id)
        return Response(webhook_endpoint_deleted_to_api(id))


class WebhookEndpointRollSecretView(StripeAPIView):
    @extend_schema(
        operation_id="PostWebhookEndpointsWebhookEndpointRollSecret",
        summary="Roll a webhook endpoint's secret",
        description="Replaces the signing secret and answers the new one; deliveries are signed with it from now on.",
        parameters=[ENDPOINT_ID],
        request=s.EmptyParams,
        responses=s.WebhookEndpointSerializer,
    )
    def post(self, request, id: str):
        validated(s.EmptyParams, self.params)
        endpoint = services.webhook_endpoint_roll_secret(
            scope=self.caller.scope, webhook_endpoint_id=id
        )
        return Response(webhook_endpoint_to_api(endpoint, with_secret=True))


class WebhookEndpointDeliveriesView(StripeAPIView):
    @extend_schema(
        operation_id="GetWebhookEndpointsWebhookEndpointDeliveries",
        summary="List an endpoint's delivery attempts",
        description="Every attempt to deliver an event to this endpoint, with the HTTP status received, newest first.",
        parameters=[ENDPOINT_ID, s.ListParamsSerializer],
        responses=s.DeliveryAttemptListSerializer,
    )
    def get(self, request, id: str):
        params = validated(s.ListParamsSerializer, self.params)
        queryset = selectors.delivery_attempt_list(scope=self.caller.scope, webhook_endpoint_id=id)
        return self.paginated(
            queryset,
            params=params,
            url=f"/v1/webhook_endpoints/{id}/deliveries",
            present=delivery_attempt_to_api,
            object_name="webhook_delivery_attempt",
        )
