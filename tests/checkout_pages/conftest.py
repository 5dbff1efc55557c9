from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.helpers import StripeTestClient

COMPLETED = "https://shop.example.com/done"
RETURN = "https://shop.example.com/cart"
CARD = {"number": "4242 4242 4242 4242", "exp": "12 / 34", "cvc": "123", "name": "Jenny Rosen"}


def page_path(client_token: str) -> str:
    return f"/checkout/{client_token}"


def create(client: StripeTestClient, **params):
    body = {
        "type": "checkout_page",
        "amount": 2000,
        "currency": "usd",
        "redirects": {"completed_url": COMPLETED, "return_url": RETURN},
        **params,
    }
    return client.post("/v1/checkout_intents", body)


@pytest.fixture
def checkout(client):
    """A pending checkout_page intent of the first account, as created (client_token shown)."""
    response = create(client, description="Two tickets")
    assert response.status_code == 200, response
    return response.json()


class Browser:
    """The Django test client playing the customer's browser on the hosted page: it reads the
    form token off the page and posts with the page's own Origin, as a browser does."""

    def __init__(self):
        self.client = Client(raise_request_exception=False)

    def get(self, path: str, **extra):
        return self.client.get(path, **extra)

    def form_token(self, path: str) -> str:
        page = self.client.get(path)
        match = re.search(rb'name="form_token" value="([^"]+)"', page.content)
        assert match, page.content[:500]
        return match.group(1).decode()

    def submit(
        self, path: str, fields: dict | None = None, *, origin="http://testserver", token=None
    ):
        data = {**CARD, **(fields or {})}
        data["form_token"] = token if token is not None else self.form_token(path)
        extra = {"HTTP_ORIGIN": origin} if origin else {}
        return self.client.post(path, data, **extra)


@pytest.fixture
def browser_client():
    return Browser()
