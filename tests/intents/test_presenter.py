"""The output schema documents exactly what the presenter returns."""

from intents.api.serializers import PaymentIntentOutputSerializer
from intents.models import PaymentIntent
from intents.presenters import PUBLISHABLE_FIELDS, payment_intent_to_api

URL = "/v1/payment_intents"


def _fully_populated(client) -> dict:
    customer = client.post("/v1/customers", {"email": "jo@example.com"}).json()
    pi = client.post(
        URL,
        {
            "amount": 2000,
            "currency": "usd",
            "customer": customer["id"],
            "description": "order 7",
            "metadata": {"order": "7"},
            "receipt_email": "jo@example.com",
            "setup_future_usage": "off_session",
            "shipping": {"name": "Jo", "address": {"line1": "1 Main St", "country": "US"}},
            "statement_descriptor": "PAYINTENTS",
            "statement_descriptor_suffix": "ORDER 7",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "confirm": True,
        },
    ).json()
    assert pi["status"] == "requires_capture", pi
    return pi


def test_the_output_schema_has_exactly_the_presenters_fields(client):
    body = _fully_populated(client)
    fields = set(PaymentIntentOutputSerializer().fields)
    pi = PaymentIntent.objects.select_related("latest_charge", "payment_method", "customer").get(
        id=body["id"]
    )
    expand = ("latest_charge", "payment_method", "customer")
    assert set(payment_intent_to_api(pi)) == fields
    assert set(payment_intent_to_api(pi, expand=expand)) == fields
    assert set(body) == fields
    assert set(PUBLISHABLE_FIELDS) < fields
