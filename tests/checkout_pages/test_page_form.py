"""The form's errors through the hosted page: each shown at its own field, nothing paid, nothing
sent to the processor; the card number kept in the field (from the POST, so the shopper fixes
one digit rather than typing it all again) and the CVC never written back into the page."""

from __future__ import annotations

import re

from payments.models import Charge, PaymentMethod
from tests.checkout_pages.conftest import COMPLETED, create, page_path


def errors_at(html: str, field: str) -> list[str]:
    """The error messages shown right after the `<input id=field>`."""
    match = re.search(
        rf'<input id="{field}"[^>]*>((?:\s*<p class="field-error"[^>]*>[^<]*</p>)*)', html
    )
    assert match, f"no input {field}"
    return re.findall(r'<p class="field-error"[^>]*>([^<]*)</p>', match.group(1))


def test_a_card_number_with_letters_is_shown_at_the_number_field(checkout, browser_client):
    response = browser_client.submit(
        page_path(checkout["client_token"]), {"number": "4242 4242 4242 424x"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert errors_at(html, "number") == ["Enter your card number using digits only."]
    assert errors_at(html, "exp") == [] and errors_at(html, "cvc") == []
    assert 'id="number" name="number"' in html and "invalid" in html.split('id="number"')[1][:300]
    assert not PaymentMethod.objects.exists() and not Charge.objects.exists()


def test_every_bad_field_is_shown_at_its_own_field(checkout, browser_client):
    response = browser_client.submit(
        page_path(checkout["client_token"]), {"number": "", "cvc": "12a", "name": ""}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert errors_at(html, "number") == ["Enter your card number."]
    assert errors_at(html, "cvc") == ["Enter the security code using digits only."]
    assert errors_at(html, "name") == ["Enter the name on the card."]
    assert errors_at(html, "exp") == []


def test_an_amount_below_the_currency_minimum_is_shown_at_the_amount_field(client, browser_client):
    ci = client.post(
        "/v1/checkout_intents",
        {
            "type": "checkout_page",
            "currency": "usd",
            "amount_editable": "true",
            "redirects": {"completed_url": COMPLETED},
        },
    ).json()
    response = browser_client.submit(page_path(ci["client_token"]), {"amount": "0.10"})
    assert response.status_code == 400
    assert errors_at(response.content.decode(), "amount") == ["Amount must be at least $0.50 usd."]
    assert not PaymentMethod.objects.exists()


def test_a_billing_address_error_is_shown_at_its_field(client, browser_client):
    ci = create(client, billing_address="true").json()
    address = {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345"}
    response = browser_client.submit(page_path(ci["client_token"]), {**address, "country": "USA"})
    assert response.status_code == 400
    html = response.content.decode()
    assert len(errors_at(html, "country")) == 1 and errors_at(html, "city") == []
    assert 'value="Springfield"' in html  # what the shopper typed stays, but the card


def test_the_processor_s_refusal_is_still_shown_at_its_field(checkout, browser_client):
    response = browser_client.submit(page_path(checkout["client_token"]), {"exp": "13 / 34"})
    assert response.status_code == 402
    assert len(errors_at(response.content.decode(), "exp")) == 1


def test_the_page_keeps_the_card_number_but_never_writes_back_the_cvc(checkout, browser_client):
    response = browser_client.submit(
        page_path(checkout["client_token"]), {"number": "4242 4242 4242 4242", "cvc": "98a"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'<input id="number"[^>]* value="4242 4242 4242 4242"', html)
    assert "98a" not in html
    assert response["Cache-Control"] == "no-store"
    assert not PaymentMethod.objects.exists()


def test_a_declined_card_s_number_is_kept_in_its_field(checkout, browser_client):
    response = browser_client.submit(
        page_path(checkout["client_token"]), {"number": "4000 0000 0000 0002", "cvc": "987"}
    )
    assert response.status_code == 402
    html = response.content.decode()
    assert re.search(r'<input id="number"[^>]* value="4000 0000 0000 0002"', html)
    assert not re.search(r"(?<![0-9A-Za-z])987(?![0-9A-Za-z])", html)
