"""Every presenter returns exactly the fields its OpenAPI description declares, at every level
the description details, so the published schema cannot drift from what clients receive.
(The payment intent's own check, through the API, is tests/intents/test_presenter.py.)"""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework import serializers

from events.api.serializers import (
    DeletedWebhookEndpointSerializer,
    DeliveryAttemptSerializer,
    EventSerializer,
    WebhookEndpointSerializer,
)
from events.presenters import (
    delivery_attempt_to_api,
    event_to_api,
    webhook_endpoint_deleted_to_api,
    webhook_endpoint_to_api,
)
from payments.api.serializers import (
    ChargeSchema,
    CustomerDeletedSchema,
    CustomerSchema,
    PaymentFlowEvaluationSchema,
    PaymentMethodSchema,
    RefundSchema,
)
from payments.models import Refund
from payments.presenters import (
    charge_to_api,
    customer_deleted_to_api,
    customer_to_api,
    payment_method_details_to_api,
    payment_method_to_api,
    refund_to_api,
)
from routing.api.serializers import (
    PaymentFlowDeletedSchema,
    PaymentFlowSchema,
    ProcessorDeletedSchema,
    ProcessorSchema,
)
from routing.presenters import (
    connection_deleted_to_api,
    connection_to_api,
    evaluation_to_api,
    flow_deleted_to_api,
    flow_to_api,
)
from routing.routes import Route, Skipped
from tests.factories import (
    ChargeFactory,
    CustomerFactory,
    DeliveryAttemptFactory,
    EventFactory,
    PaymentFlowFactory,
    PaymentIntentFactory,
    PaymentMethodFactory,
    ProcessorConnectionFactory,
    RefundFactory,
    WebhookEndpointFactory,
)

ADDRESS = {
    "city": "Springfield",
    "country": "US",
    "line1": "1 Main St",
    "line2": "Apt 2",
    "postal_code": "12345",
    "state": "IL",
}


def mismatches(schema: serializers.Serializer, data: dict, path: str = "") -> list[str]:
    """Keys returned but not declared, and required keys declared but not returned, recursing
    wherever the schema describes a nested object and the data has one. (A field the schema
    marks not required, like a webhook endpoint's `secret`, may be absent.)"""
    declared, returned = set(schema.fields), set(data)
    required = {name for name, field in schema.fields.items() if field.required}
    out = [f"{path}{key}: returned but not in the schema" for key in sorted(returned - declared)]
    out += [f"{path}{key}: in the schema but not returned" for key in sorted(required - returned)]
    for name, field in schema.fields.items():
        value = data.get(name)
        if isinstance(field, serializers.ListSerializer):
            child = field.child
            if isinstance(child, serializers.Serializer) and value:
                out += mismatches(child, value[0], f"{path}{name}[0].")
        elif isinstance(field, serializers.Serializer) and isinstance(value, dict):
            out += mismatches(field, value, f"{path}{name}.")
    return out


@pytest.fixture
def full_charge(db):
    """A charge whose every optional part is filled, so nested shapes are compared too."""
    customer = CustomerFactory(address=ADDRESS, shipping={"name": "Jo", "address": ADDRESS})
    pm = PaymentMethodFactory(
        account=customer.account,
        customer=customer,
        billing_details={"name": "Jo", "email": "jo@example.com", "address": ADDRESS},
    )
    intent = PaymentIntentFactory(
        account=customer.account,
        customer=customer,
        payment_method=pm,
        shipping={"name": "Jo", "address": ADDRESS, "carrier": "UPS", "tracking_number": "1Z"},
        description="order 7",
        metadata={"order": "7"},
        receipt_email="jo@example.com",
        canceled_at=timezone.now(),
        cancellation_reason="requested_by_customer",
        next_action={"type": "redirect_to_url"},
        last_payment_error={"code": "card_declined"},
    )
    return ChargeFactory(
        account=customer.account,
        payment_intent=intent,
        payment_method=pm,
        customer=customer,
        payment_method_details=payment_method_details_to_api(pm, three_d_secure="passed"),
        three_d_secure="passed",
        outcome={
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 20,
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
    )


def test_charge_presenter_matches_its_schema(full_charge):
    assert mismatches(ChargeSchema(), charge_to_api(full_charge)) == []


def test_charge_presenter_with_refunds_matches_its_schema(full_charge):
    RefundFactory(
        account=full_charge.account,
        charge=full_charge,
        reason="duplicate",
        metadata={"ticket": "9"},
        status=Refund.Status.FAILED,
        failure_reason="declined",
    )
    full_charge.refund_count = 1
    shown = charge_to_api(full_charge)
    assert shown["refunds"]["total_count"] == 1
    assert mismatches(ChargeSchema(), shown) == []


def test_refund_presenter_matches_its_schema(full_charge):
    refund = RefundFactory(
        account=full_charge.account,
        charge=full_charge,
        reason="requested_by_customer",
        metadata={"ticket": "9"},
        status=Refund.Status.FAILED,
        failure_reason="expired_or_canceled_card",
    )
    assert mismatches(RefundSchema(), refund_to_api(refund)) == []


def test_payment_method_presenter_matches_its_schema(full_charge):
    pm = full_charge.payment_method
    assert mismatches(PaymentMethodSchema(), payment_method_to_api(pm)) == []


def test_customer_presenters_match_their_schemas(full_charge):
    customer = full_charge.customer
    assert mismatches(CustomerSchema(), customer_to_api(customer)) == []
    assert mismatches(CustomerDeletedSchema(), customer_deleted_to_api(customer)) == []


def test_event_presenter_matches_its_schema(db):
    event = EventFactory(
        request_id="req_1",
        idempotency_key="key-1",
        data={"object": {"id": "cus_1", "object": "customer"}, "previous_attributes": {"a": 1}},
    )
    assert mismatches(EventSerializer(), event_to_api(event)) == []


def test_webhook_endpoint_presenters_match_their_schemas(db):
    endpoint = WebhookEndpointFactory(description="orders", metadata={"team": "ops"})
    shown = webhook_endpoint_to_api(endpoint)
    assert mismatches(WebhookEndpointSerializer(), shown) == []
    assert "secret" not in shown
    with_secret = webhook_endpoint_to_api(endpoint, with_secret=True)
    assert mismatches(WebhookEndpointSerializer(), with_secret) == []
    assert with_secret["secret"] == endpoint.secret
    assert (
        mismatches(DeletedWebhookEndpointSerializer(), webhook_endpoint_deleted_to_api(endpoint.id))
        == []
    )


def test_delivery_attempt_presenter_matches_its_schema(db):
    attempt = DeliveryAttemptFactory(next_attempt_at=timezone.now(), error="timeout")
    assert mismatches(DeliveryAttemptSerializer(), delivery_attempt_to_api(attempt)) == []


def test_processor_presenters_match_their_schemas(db):
    simulated = ProcessorConnectionFactory(
        behavior="decline", decline_code="do_not_honor", latency_ms=5, metadata={"a": "1"}
    )
    shown = connection_to_api(simulated)
    assert mismatches(ProcessorSchema(), shown) == []
    assert shown["simulated"] and shown["stripe"] is None
    stripe = ProcessorConnectionFactory(
        kind="stripe", api_key_encrypted="gAAAA-not-shown", api_key_last4="wXyZ"
    )
    shown = connection_to_api(stripe)
    assert mismatches(ProcessorSchema(), shown) == []
    assert shown["stripe"] == {"api_base": "https://api.stripe.com", "api_key_last4": "wXyZ"}
    assert shown["simulated"] is None
    assert "gAAAA-not-shown" not in repr(shown)
    assert mismatches(ProcessorDeletedSchema(), connection_deleted_to_api(stripe.id)) == []


@pytest.mark.parametrize(
    "routing",
    [
        {"type": "priority", "processors": ["proc_a", "proc_b"]},
        {
            "type": "volume_split",
            "split": [
                {"processor": "proc_a", "percent": 60},
                {"processor": "proc_b", "percent": 40},
            ],
        },
        {
            "type": "rules",
            "rules": [
                {
                    "if": {
                        "currency": ["eur"],
                        "amount_gte": 100,
                        "amount_lt": 5000,
                        "card_brand": ["visa"],
                        "card_country": ["DE"],
                        "metadata": {"tier": "gold"},
                    },
                    "then": {"processors": ["proc_a"]},
                }
            ],
            "default": {"processors": ["proc_b"]},
        },
        {"type": "success_rate", "processors": ["proc_a"], "window": 200, "exploration_percent": 5},
    ],
    ids=lambda routing: routing["type"],
)
def test_payment_flow_presenters_match_their_schemas(db, routing):
    flow = PaymentFlowFactory(
        routing=routing, retry={"max_attempts": 2, "on": ["soft_decline"]}, metadata={"a": "1"}
    )
    assert mismatches(PaymentFlowSchema(), flow_to_api(flow)) == []
    assert mismatches(PaymentFlowDeletedSchema(), flow_deleted_to_api(flow.id)) == []


def test_payment_flow_evaluation_presenter_matches_its_schema(db):
    connection = ProcessorConnectionFactory()
    route = Route(
        connections=[connection],
        rule=0,
        skipped=[Skipped("proc_other", "disabled")],
        max_attempts=3,
        routing_type="rules",
    )
    shown = evaluation_to_api(route, flow_id="flow_1", version=2)
    assert mismatches(PaymentFlowEvaluationSchema(), shown) == []
    assert shown["attempts"] == 1 and shown["processors"] == [connection.id]


def test_the_comparison_catches_a_missing_and_an_extra_field():
    class Shape(serializers.Serializer):
        id = serializers.CharField()
        nested = PaymentMethodSchema()

    problems = mismatches(Shape(), {"id": "x", "extra": 1})
    assert problems == [
        "extra: returned but not in the schema",
        "nested: in the schema but not returned",
    ]
