"""URLs taken from callers are absolute http(s) only (a loopback host in test mode only): a
confirm's `return_url`, a checkout intent's `redirects` and `allowed_origins`. A return URL that
got stored anyway is never linked to nor redirected to by the 3-D Secure page, which has a CSP,
and finishing the challenge never answers 500."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from intents.models import PaymentIntent
from payments.models import Charge
from tests.helpers import StripeTestClient

BAD_URLS = [
    "javascript:alert(document.domain)//",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "//evil.example/x",
    "/relative/path",
    "ftp://files.example/x",
    "https://",
    "https://shop.example:99999/x",
    "https://shop.example/a b",
    "https:\\\\evil.example",
    "java\tscript:alert(1)",
    # not URIs (RFC 3986), as the document's `format: uri` says: raw non-ASCII, a bad percent
    # escape, characters a URI never holds, a second fragment
    "https://shop.exämple/x",
    "https://shop.example/ü",
    "https://shop.example/%zz",
    "https://shop.example/{x}",
    "https://shop.example/a|b",
    "https://shop.example/a^b",
    "https://shop.example/[x]",
    "https://shop.example/a#b#c",
]


def _intent(client, **params) -> dict:
    response = client.post("/v1/payment_intents", {"amount": 5000, "currency": "usd", **params})
    assert response.status_code == 200, response
    return response.json()


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_confirm_refuses_a_return_url_that_is_not_absolute_http(acct, url):
    client = StripeTestClient(key=acct.sk)
    pi = _intent(client)
    answer = client.post(
        f"/v1/payment_intents/{pi['id']}/confirm",
        {"payment_method": "pm_card_authenticationRequired", "return_url": url},
    )
    assert answer.status_code == 400, answer
    assert answer.json()["error"]["param"] == "return_url"
    assert answer.json()["error"]["code"] == "url_invalid"
    assert PaymentIntent.objects.get(id=pi["id"]).status == "requires_payment_method"
    assert not Charge.objects.filter(payment_intent_id=pi["id"]).exists()


def test_a_publishable_key_confirm_refuses_a_javascript_return_url(acct):
    client = StripeTestClient(key=acct.sk)
    pi = _intent(client)
    answer = StripeTestClient(key=acct.pk).post(
        f"/v1/payment_intents/{pi['id']}/confirm",
        {
            "client_secret": pi["client_secret"],
            "payment_method": "pm_card_authenticationRequired",
            "return_url": "javascript:alert(document.domain)//",
        },
    )
    assert answer.status_code == 400, answer
    assert PaymentIntent.objects.get(id=pi["id"]).return_url is None


@pytest.mark.parametrize("url", BAD_URLS[:4])
def test_a_create_with_confirm_refuses_it_and_creates_nothing(acct, url):
    client = StripeTestClient(key=acct.sk)
    answer = client.post(
        "/v1/payment_intents",
        {
            "amount": 5000,
            "currency": "usd",
            "confirm": "true",
            "payment_method": "pm_card_visa",
            "return_url": url,
        },
    )
    assert answer.status_code == 400, answer
    assert not PaymentIntent.objects.filter(account_id=acct.id).exists()


def test_loopback_return_urls_are_for_test_mode_only(acct):
    for key, expected in ((acct.sk, 200), (acct.sk_live, 400)):
        client = StripeTestClient(key=key)
        answer = client.post(
            "/v1/payment_intents",
            {
                "amount": 5000,
                "currency": "usd",
                "confirm": "true",
                "payment_method": "pm_card_visa",
                "return_url": "http://localhost:3000/done",
            },
        )
        if expected == 400:
            # live mode has no simulated card: the return URL is refused before anything else
            assert answer.json()["error"]["param"] == "return_url", answer
        assert answer.status_code == expected, answer


@pytest.mark.parametrize("url", BAD_URLS)
def test_checkout_intent_redirects_are_absolute_http_only(acct, url):
    client = StripeTestClient(key=acct.sk)
    answer = client.post(
        "/v1/checkout_intents",
        {
            "type": "checkout_page",
            "amount": 2000,
            "currency": "usd",
            "redirects": {"completed_url": url},
        },
    )
    assert answer.status_code == 400, answer
    assert answer.json()["error"]["param"] == "redirects[completed_url]"


@pytest.mark.parametrize(
    "origin",
    [
        "https://a.example.com:99999",
        "https://a.example.com:0",
        "https://a.example.com:x",
        "javascript://a.example.com",
        "//a.example.com",
        "https://user@a.example.com",
        " https://a.example.com",
        "https://a.example.com\n",
        "https://ä.example.com",
    ],
)
def test_allowed_origins_are_http_origins_and_a_bad_port_is_a_400(acct, origin):
    answer = StripeTestClient(key=acct.sk).post(
        "/v1/checkout_intents",
        {"type": "payment_form", "amount": 2000, "currency": "usd", "allowed_origins": [origin]},
    )
    assert answer.status_code == 400, answer
    assert answer.json()["error"]["param"] == "allowed_origins[0]"


def test_loopback_origins_are_for_test_mode_only(acct):
    params = {
        "type": "payment_form",
        "amount": 2000,
        "currency": "usd",
        "allowed_origins": ["http://localhost:3000"],
    }
    assert StripeTestClient(key=acct.sk).post("/v1/checkout_intents", params).status_code == 200
    live = StripeTestClient(key=acct.sk_live).post("/v1/checkout_intents", params)
    assert live.status_code == 400, live
    assert live.json()["error"]["param"] == "allowed_origins[0]"


def _three_d_secure(client, pi_id: str):
    pi = PaymentIntent.objects.get(id=pi_id)
    url = client.post(
        f"/v1/payment_intents/{pi.id}/confirm", {"payment_method": "pm_card_authenticationRequired"}
    ).json()["next_action"]["redirect_to_url"]["url"]
    parts = urlsplit(url)
    return parts.path, parse_qs(parts.query)["token"][0]


def test_a_stored_javascript_return_url_is_never_linked_and_completing_is_not_a_500(acct):
    """A return URL stored before these rules (written here straight to the row)."""
    client = StripeTestClient(key=acct.sk)
    pi = _intent(client)
    path, token = _three_d_secure(client, pi["id"])
    PaymentIntent.objects.filter(id=pi["id"]).update(
        return_url="javascript:alert(document.domain)//"
    )
    page = client.django.get(path, {"token": token})
    assert page.status_code == 200
    assert "javascript:" not in page.content.decode()
    assert "script-src 'self'" in page["Content-Security-Policy"]
    done = client.django.post(path, {"token": token, "outcome": "complete"})
    assert done.status_code == 200, done.content[:300]
    assert "javascript:" not in done.content.decode()
    assert "Content-Security-Policy" in done
    assert PaymentIntent.objects.get(id=pi["id"]).status == "succeeded"


@pytest.mark.parametrize("url", BAD_URLS[:4] + ["true"])
def test_a_setup_intent_create_refuses_a_return_url_even_without_confirm(acct, url):
    answer = StripeTestClient(key=acct.sk).post("/v1/setup_intents", {"return_url": url})
    assert answer.status_code == 400, answer
    assert answer.json()["error"]["param"] == "return_url"
    assert answer.json()["error"]["code"] == "url_invalid"
