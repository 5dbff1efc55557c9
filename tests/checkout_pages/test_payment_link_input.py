"""A Payment Link's `after_completion[hosted_confirmation]` is a hash, checked as every hash of
the API is: an empty value from a form is a hash with no keys (bracket notation has no other way
to write `{}`), and anything else that is not a hash is a 400 in the API's own words (found by
schemathesis: a form's `after_completion[hosted_confirmation]=` was refused with DRF's own
"Expected a dictionary of items but got type "str"." and code `not_a_dict`)."""

from __future__ import annotations

import pytest

from tests.helpers import StripeTestClient


@pytest.fixture
def link(acct) -> dict:
    client = StripeTestClient(key=acct.sk)
    product = client.post("/v1/products", {"name": "Tee"}).json()
    price = client.post(
        "/v1/prices", {"currency": "usd", "unit_amount": 1500, "product": product["id"]}
    ).json()
    answer = client.post(
        "/v1/payment_links", {"line_items": [{"price": price["id"], "quantity": 1}]}
    )
    assert answer.status_code == 200, answer
    return answer.json()


@pytest.mark.parametrize("path", ["/v1/payment_links", "/v1/payment_links/{id}"])
def test_an_empty_hosted_confirmation_from_a_form_is_an_empty_hash(acct, link, path):
    client = StripeTestClient(key=acct.sk)
    params = {"after_completion": {"type": "hosted_confirmation", "hosted_confirmation": ""}}
    if path.endswith("{id}"):
        answer = client.post(path.format(id=link["id"]), params)
    else:
        line = {"price": "", "quantity": 1}
        items = client.get(f"/v1/payment_links/{link['id']}/line_items").json()["data"]
        line["price"] = items[0]["price"]["id"]
        answer = client.post(path, {"line_items": [line], **params})
    assert answer.status_code == 200, answer
    assert answer.json()["after_completion"]["type"] == "hosted_confirmation"


@pytest.mark.parametrize("value", ["thanks", 3, ["a"]])
def test_a_hosted_confirmation_that_is_no_hash_is_refused_in_the_apis_words(acct, link, value):
    client = StripeTestClient(key=acct.sk)
    answer = client.post(
        f"/v1/payment_links/{link['id']}",
        {"after_completion": {"type": "hosted_confirmation", "hosted_confirmation": value}},
        json=True,
    )
    assert answer.status_code == 400, answer
    error = answer.json()["error"]
    assert error["param"] == "after_completion[hosted_confirmation]"
    assert error["code"] == "parameter_invalid_hash"
    assert "Expected a dictionary" not in error["message"]


def test_hosted_confirmation_takes_stripes_custom_message_and_nothing_else(acct, link):
    client = StripeTestClient(key=acct.sk)
    path = f"/v1/payment_links/{link['id']}"
    confirmation = {"type": "hosted_confirmation", "hosted_confirmation": {"custom_message": "Hi"}}
    assert client.post(path, {"after_completion": confirmation}).status_code == 200
    confirmation["hosted_confirmation"] = {"colour": "red"}
    answer = client.post(path, {"after_completion": confirmation})
    assert answer.status_code == 400, answer
    assert answer.json()["error"]["code"] == "parameter_unknown"


@pytest.mark.parametrize("path", ["/v1/payment_links", "/v1/payment_links/{id}"])
def test_a_redirect_url_is_checked_even_beside_a_hosted_confirmation(acct, link, path):
    """A URL the API refuses is refused whatever `after_completion[type]` says, and nothing
    changes (it was taken, and dropped, beside `hosted_confirmation`: found by schemathesis)."""
    client = StripeTestClient(key=acct.sk)
    params = {"after_completion": {"type": "hosted_confirmation", "redirect": {"url": "É"}}}
    before = client.get("/v1/payment_links").json()["data"]
    if path.endswith("{id}"):
        answer = client.post(path.format(id=link["id"]), params)
    else:
        items = client.get(f"/v1/payment_links/{link['id']}/line_items").json()["data"]
        line = {"price": items[0]["price"]["id"], "quantity": 1}
        answer = client.post(path, {"line_items": [line], **params})
    assert answer.status_code == 400, answer
    assert answer.json()["error"]["param"] == "after_completion[redirect][url]"
    assert client.get("/v1/payment_links").json()["data"] == before
    fine = {"type": "hosted_confirmation", "redirect": {"url": "https://shop.example.com/x"}}
    answer = client.post(f"/v1/payment_links/{link['id']}", {"after_completion": fine})
    assert answer.status_code == 200 and answer.json()["after_completion"]["type"] == (
        "hosted_confirmation"
    )
