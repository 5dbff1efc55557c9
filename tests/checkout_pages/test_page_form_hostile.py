"""The hostile submits that used to crash the hosted page or get through it: each is a 400 at
the page (never a 500), pays nothing and creates nothing — no payment method, no charge, no
PaymentIntent."""

from __future__ import annotations

import pytest

from intents.models import PaymentIntent
from payments.models import Charge, PaymentMethod
from tests.checkout_pages.conftest import COMPLETED, page_path


@pytest.fixture
def editable(client):
    response = client.post(
        "/v1/checkout_intents",
        {
            "type": "checkout_page",
            "currency": "usd",
            "amount_editable": "true",
            "redirects": {"completed_url": COMPLETED},
        },
    )
    assert response.status_code == 200, response
    return response.json()


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "Jane\x00Doe"},
        {"number": "424242424242424²"},
        {"number": "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢"},
        {"number": "４２４２４２４２４２４２４２４２"},
        {"exp": "12 / ³⁴"},
        {"exp": "١٢ / ٣٤"},
        {"exp": "1" * 5000},
        {"cvc": "１２３"},
        {"cvc": "٣٤٥"},
        {"amount": "1²"},
        {"amount": "١٢"},
        {"amount": "１２.５０"},
        {"amount": "9" * 5000},
    ],
)
def test_a_hostile_submit_is_a_400_and_creates_nothing(editable, browser_client, fields):
    response = browser_client.submit(
        page_path(editable["client_token"]), {"amount": "12.50", **fields}
    )
    assert response.status_code == 400, response.content[:300]
    assert not PaymentMethod.objects.exists()
    assert not Charge.objects.exists()
    assert not PaymentIntent.objects.exists()
