"""The hosted 3-D Secure page: its link follows the request's host, it shows money as money, and
the return redirect carries `redirect_status`."""

from urllib.parse import parse_qs, urlsplit

import pytest

from core.money import format_amount

pytestmark = pytest.mark.usefixtures("processor_mode")  # every movement, both ways

URL = "/v1/payment_intents"


def _start(client, create_intent, pm="pm_card_authenticationRequired", **params):
    pi = create_intent(**params)
    body = client.post(
        f"{URL}/{pi['id']}/confirm",
        {"payment_method": pm, "return_url": "https://shop.test/done?cart=9"},
    ).json()
    assert body["status"] == "requires_action", body
    return body


def _press(client, url, outcome):
    parts = urlsplit(url)
    token = parse_qs(parts.query)["token"][0]
    return client.django.post(parts.path, {"token": token, "outcome": outcome})


@pytest.mark.parametrize(
    "outcome,capture_method,status",
    [
        ("complete", "automatic", "succeeded"),
        ("complete", "manual", "succeeded"),
        ("fail", "automatic", "failed"),
    ],
)
def test_the_return_redirect_carries_redirect_status(
    client, create_intent, outcome, capture_method, status
):
    body = _start(client, create_intent, capture_method=capture_method)
    response = _press(client, body["next_action"]["redirect_to_url"]["url"], outcome)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["redirect_status"] == [status]
    assert query["payment_intent"] == [body["id"]]
    assert query["cart"] == ["9"]


def test_a_declined_payment_after_authentication_redirects_as_failed(client, create_intent):
    body = _start(
        client, create_intent, "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds"
    )
    response = _press(client, body["next_action"]["redirect_to_url"]["url"], "complete")
    assert parse_qs(urlsplit(response["Location"]).query)["redirect_status"] == ["failed"]


def test_the_page_shows_the_amount_as_money(client, create_intent):
    body = _start(client, create_intent, amount=2500)
    parts = urlsplit(body["next_action"]["redirect_to_url"]["url"])
    page = client.django.get(f"{parts.path}?{parts.query}").content.decode()
    assert "$25.00" in page
    assert "minor units" not in page


def test_the_link_uses_the_allowed_host_the_request_came_in_on(client, create_intent, settings):
    settings.PUBLIC_BASE_URL_SET = False
    settings.ALLOWED_HOSTS = ["testserver", "pay.example.com"]
    pi = create_intent()
    body = client.post(
        f"{URL}/{pi['id']}/confirm",
        {"payment_method": "pm_card_authenticationRequired", "return_url": "https://s.test/"},
        headers={"Host": "pay.example.com"},
    ).json()
    assert body["next_action"]["redirect_to_url"]["url"].startswith(
        "http://pay.example.com/authenticate/payment_intents/" + pi["id"] + "?token="
    )


def test_a_wildcard_allowed_host_is_not_trusted_for_links(client, create_intent, settings):
    settings.PUBLIC_BASE_URL_SET = False
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8123"
    settings.ALLOWED_HOSTS = ["*"]
    pi = create_intent()
    body = client.post(
        f"{URL}/{pi['id']}/confirm",
        {"payment_method": "pm_card_authenticationRequired", "return_url": "https://s.test/"},
        headers={"Host": "evil.example"},
    ).json()
    assert body["next_action"]["redirect_to_url"]["url"].startswith("http://127.0.0.1:8123/")


def test_a_public_base_url_the_operator_set_wins(client, create_intent, settings):
    settings.PUBLIC_BASE_URL_SET = True
    settings.PUBLIC_BASE_URL = "https://pay.example.com/"
    body = _start(client, create_intent)
    assert body["next_action"]["redirect_to_url"]["url"].startswith(
        "https://pay.example.com/authenticate/"
    )


@pytest.mark.parametrize(
    "amount,currency,shown",
    [
        (2500, "usd", "$25.00"),
        (5, "usd", "$0.05"),
        (123456789, "eur", "€1,234,567.89"),
        (500, "jpy", "¥500"),
        (12340, "kwd", "12.340 KWD"),
        (1999, "sek", "19.99 SEK"),
        (-150, "gbp", "-£1.50"),
    ],
)
def test_format_amount(amount, currency, shown):
    assert format_amount(amount, currency) == shown
