import pytest

from intents.models import PaymentIntent


@pytest.fixture
def create_intent(client):
    """POST /v1/payment_intents with sensible defaults; returns the JSON body."""

    def make(**params):
        body = {"amount": 2000, "currency": "usd", **params}
        response = client.post("/v1/payment_intents", body)
        assert response.status_code == 200, response
        return response.json()

    return make


@pytest.fixture
def confirmed(client, create_intent):
    """An intent confirmed with `pm` (manual capture by default) → (status, body)."""

    def make(pm="pm_card_visa", **params):
        params.setdefault("capture_method", "manual")
        pi = create_intent(**params)
        response = client.post(f"/v1/payment_intents/{pi['id']}/confirm", {"payment_method": pm})
        return response

    return make


def db_intent(pi_id: str) -> PaymentIntent:
    return PaymentIntent.objects.get(id=pi_id)
