"""What the API used to take leniently, or answered with a 500, is a clear 400 (or 405):
integers with spaces or a newline, array indices past any array, a body in a charset the
parsers do not read, a Host header outside ALLOWED_HOSTS, a time zone name too long for the
file system, OPTIONS on /docs/."""

from __future__ import annotations

import pytest
from django.test import Client

from intents.models import PaymentIntent
from payments.models import Customer
from tests.helpers import StripeTestClient


@pytest.mark.parametrize("amount", [" 1000 ", "1000 ", " 1000", "1000\n", "+1000", "1_000"])
def test_an_integer_with_anything_around_it_is_refused(acct, amount):
    answer = StripeTestClient(key=acct.sk).post(
        "/v1/payment_intents", {"amount": amount, "currency": "usd"}
    )
    assert answer.status_code == 400, answer
    assert answer.json()["error"]["code"] == "parameter_invalid_integer"
    assert answer.json()["error"]["param"] == "amount"
    assert not PaymentIntent.objects.filter(account_id=acct.id).exists()


@pytest.mark.parametrize("index", ["99999999999", "100", "１", "²"])
def test_an_array_index_past_the_array_limit_is_refused(acct, index):
    answer = StripeTestClient(key=acct.sk).get("/v1/customers", {f"expand[{index}]": "data.x"})
    assert answer.status_code == 400, answer
    assert answer.json()["error"]["type"] == "invalid_request_error"


def test_indexed_arrays_within_the_limit_still_work(acct):
    client = StripeTestClient(key=acct.sk)
    answer = client.get(
        "/v1/payment_intents", {"expand[0]": "data.customer", "expand[1]": "data.latest_charge"}
    )
    assert answer.status_code == 200, answer


@pytest.mark.parametrize(
    ("params", "json"),
    [
        ({"payment_method_types": "card"}, False),  # `a=x`, no brackets
        ({"payment_method_types": ""}, False),  # `a=`: the empty value, and this one is no null
        ({"payment_method_types": "card"}, True),
        ({"payment_method_types": ""}, True),
    ],
)
def test_a_string_for_an_array_is_refused(acct, params, json):
    """A string is no array, as Stripe answers it ("Invalid array"): it was read as a list of
    one, and the empty one as no list at all, in a JSON body too (the fuzz's ST201)."""
    answer = StripeTestClient(key=acct.sk).post(
        "/v1/payment_intents", {"amount": 1000, "currency": "usd", **params}, json=json
    )
    assert answer.status_code == 400, answer
    assert answer.json()["error"]["code"] == "parameter_invalid_array"
    assert answer.json()["error"]["param"] == "payment_method_types"
    assert not PaymentIntent.objects.filter(account_id=acct.id).exists()


@pytest.mark.parametrize("path", ["/v1/payment_intents", "/v1/checkout_intents"])
def test_a_string_for_expand_is_refused_as_stripe_refuses_it(acct, path):
    client = StripeTestClient(key=acct.sk)
    answer = client.get(path, {"expand": "data.customer"})
    assert answer.status_code == 400, answer
    assert answer.json()["error"]["code"] == "parameter_invalid_array"
    assert answer.json()["error"]["param"] == "expand"
    assert client.get(path, {"expand[]": "data.customer"}).status_code == 200
    assert client.get(path, {"expand": ""}).status_code == 200  # the empty value: none


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded; charset=garbage",
        "application/x-www-form-urlencoded; charset=utf-16",
        "application/json; charset=ebcdic",
    ],
)
def test_a_body_in_a_charset_the_parsers_do_not_read_is_refused(acct, content_type):
    body = '{"description": "x"}' if "json" in content_type else "description=x"
    answer = Client(raise_request_exception=False).generic(
        "POST",
        "/v1/customers",
        body,
        content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {acct.sk}",
    )
    assert answer.status_code == 400, answer.content
    assert "charset" in answer.json()["error"]["message"]
    assert not Customer.objects.filter(account_id=acct.id).exists()


def test_utf8_declared_is_still_read(acct):
    answer = Client(raise_request_exception=False).generic(
        "POST",
        "/v1/customers",
        "description=x",
        content_type="application/x-www-form-urlencoded; charset=UTF-8",
        HTTP_AUTHORIZATION=f"Bearer {acct.sk}",
    )
    assert answer.status_code == 200, answer.content


def test_a_host_outside_allowed_hosts_is_refused_everywhere(acct):
    client = Client(raise_request_exception=False)
    api = client.get(
        "/v1/customers", HTTP_HOST="evil.example", HTTP_AUTHORIZATION=f"Bearer {acct.sk}"
    )
    assert api.status_code == 400
    assert api.json()["error"]["code"] == "host_invalid"
    page = client.get("/docs/", HTTP_HOST="evil.example")
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/plain")
    ok = client.get("/v1/customers", HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {acct.sk}")
    assert ok.status_code == 200


def test_a_time_zone_name_too_long_is_a_400(acct):
    answer = StripeTestClient(key=acct.sk).get("/v1/checkout_insights", {"tz": "A" * 300})
    assert answer.status_code == 400, answer
    assert answer.json()["error"]["param"] == "tz"


def test_options_on_docs_is_not_a_500(db):
    answer = Client(raise_request_exception=False).options("/docs/")
    assert answer.status_code == 405
    assert "GET" in answer["Allow"]


@pytest.mark.parametrize("path", ["/v1/customers", "/paymongo/v1/payment_methods"])
def test_a_body_with_no_content_type_is_refused(acct, path):
    answer = Client(raise_request_exception=False).generic(
        "POST",
        path,
        "description=x&email=a@example.com",
        content_type="",
        HTTP_AUTHORIZATION=f"Bearer {acct.sk}",
    )
    assert answer.status_code == 400, answer.content
    assert "Content-Type" in answer.content.decode()
    assert not Customer.objects.filter(account_id=acct.id).exists()


def test_a_write_with_no_body_and_no_content_type_still_works(acct):
    customer = StripeTestClient(key=acct.sk).post("/v1/customers", {}).json()
    answer = Client(raise_request_exception=False).generic(
        "POST",
        f"/v1/customers/{customer['id']}",
        "",
        content_type="",
        HTTP_AUTHORIZATION=f"Bearer {acct.sk}",
    )
    assert answer.status_code == 200, answer.content


@pytest.mark.parametrize("currency", [" usd ", "usd ", " usd", "usd\n", "\tUSD"])
def test_a_currency_with_anything_around_it_is_refused(acct, currency):
    """As Stripe answers ` usd `: the code is three letters (in either case), nothing around it."""
    answer = StripeTestClient(key=acct.sk).post(
        "/v1/payment_intents", {"amount": 1000, "currency": currency}
    )
    assert answer.status_code == 400, answer
    assert answer.json()["error"]["code"] == "parameter_invalid_string"
    assert answer.json()["error"]["param"] == "currency"
    assert not PaymentIntent.objects.filter(account_id=acct.id).exists()


@pytest.mark.parametrize("currency", ["usd", "USD", "Usd"])
def test_a_currency_code_is_taken_in_either_case(acct, currency):
    answer = StripeTestClient(key=acct.sk).post(
        "/v1/payment_intents", {"amount": 1000, "currency": currency}
    )
    assert answer.status_code == 200, answer
    assert answer.json()["currency"] == "usd"
