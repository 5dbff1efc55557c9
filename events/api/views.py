from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

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


class EventListView(StripeAPIView):
    @extend_schema(
        operation_id="GetEvents", parameters=[s.EventListParams], responses=s.EventListSerializer
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
    @extend_schema(operation_id="GetEventsId", responses=s.EventSerializer)
    def get(self, request, id: str):
        validated(s.EmptyParams, self.params)
        return Response(event_to_api(selectors.event_get(scope=self.caller.scope, id=id)))


class EventResendView(StripeAPIView):
    @extend_schema(
        operation_id="PostEventsIdResend", request=s.EventResendParams, responses=s.EventSerializer
    )
    def post(self, request, id: str):
        params = validated(s.EventResendParams, self.params)
        event = selectors.event_get(scope=self.caller.scope, id=id)
        endpoint = None
        if params.get("webhook_endpoint"):
            endpoint = selectors.webhook_endpoint_get(
                scope=self.caller.scope,
                id=params["webhook_endpoint"],
                param="webhook_endpoint",
            )
        event = services.event_resend(event=event, endpoint=endpoint)
        return Response(event_to_api(event))


class EventDeliveriesView(StripeAPIView):
    @extend_schema(
        operation_id="GetEventsIdDeliveries",
        parameters=[s.ListParamsSerializer],
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
        operation_id="GetWebhookEndpointsWebhookEndpoint", responses=s.WebhookEndpointSerializer
    )
    def get(self, request, id: str):
        validated(s.EmptyParams, self.params)
        return Response(
            webhook_endpoint_to_api(selectors.webhook_endpoint_get(scope=self.caller.scope, id=id))
        )

    @extend_schema(
        operation_id="PostWebhookEndpointsWebhookEndpoint",
        request=s.WebhookEndpointUpdateParams,
        responses=s.WebhookEndpointSerializer,
    )
    def post(self, request, id: str):
        endpoint = selectors.webhook_endpoint_get(scope=self.caller.scope, id=id)
        params = validated(s.WebhookEndpointUpdateParams, self.params)
        endpoint = services.webhook_endpoint_update(
            endpoint=endpoint,
            url=params.get("url", UNSET),
            enabled_events=params.get("enabled_events", UNSET),
            description=params.get("description", UNSET),
            metadata=params.get("metadata", UNSET),
            disabled=params.get("disabled", UNSET),
        )
        return Response(webhook_endpoint_to_api(endpoint))

    @extend_schema(
        operation_id="DeleteWebhookEndpointsWebhookEndpoint",
        responses={200: s.DeletedWebhookEndpointSerializer},
    )
    def delete(self, request, id: str):
        endpoint = selectors.webhook_endpoint_get(scope=self.caller.scope, id=id)
        services.webhook_endpoint_delete(endpoint=endpoint)
        return Response(webhook_endpoint_deleted_to_api(id))


class WebhookEndpointRollSecretView(StripeAPIView):
    @extend_schema(
        operation_id="PostWebhookEndpointsWebhookEndpointRollSecret",
        request=s.EmptyParams,
        responses=s.WebhookEndpointSerializer,
    )
    def post(self, request, id: str):
        validated(s.EmptyParams, self.params)
        endpoint = selectors.webhook_endpoint_get(scope=self.caller.scope, id=id)
        endpoint = services.webhook_endpoint_roll_secret(endpoint=endpoint)
        return Response(webhook_endpoint_to_api(endpoint, with_secret=True))


class WebhookEndpointDeliveriesView(StripeAPIView):
    @extend_schema(
        operation_id="GetWebhookEndpointsWebhookEndpointDeliveries",
        parameters=[s.ListParamsSerializer],
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
