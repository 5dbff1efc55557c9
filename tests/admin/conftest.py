"""The console as an operator sees it: a staff superuser ("alice") logged in with Django's test
client, and payments made through the API as a merchant would make them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client

from intents.models import PaymentIntent

OPERATOR = "admin:alice"


@pytest.fixture
def operator(db) -> Client:
    user = get_user_model().objects.create_superuser("alice", "alice@example.com", "pw-alice-1")
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def pay(client):
    """A payment through the API (card, confirmed, manual capture unless told) → its JSON."""

    def make(amount: int = 2000, currency: str = "usd", **params) -> dict:
        body = {
            "amount": amount,
            "currency": currency,
            "payment_method": "pm_card_visa",
            "confirm": "true",
            "capture_method": "manual",
            **params,
        }
        response = client.post("/v1/payment_intents", body)
        assert response.status_code == 200, response
        return response.json()

    return make


def changelist(model) -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/"


def run_action(operator: Client, model, action: str, ids: list[str], **form):
    """Post a changelist action for `ids`; with `form` given, also its intermediate page's
    answers (as the confirm button does)."""
    data = {"action": action, "_selected_action": ids}
    if form:
        data.update(form, apply="1")
    return operator.post(changelist(model), data)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def intent(pi_id: str) -> PaymentIntent:
    return PaymentIntent.objects.get(id=pi_id)
