"""The HTTP dialect every resource shares, exercised through a test resource (/v1/echo)."""

import json

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.urls_for_tests")]

PAYLOAD = {
    "amount": 2000,
    "currency": "USD",
    "confirm": True,
    "metadata": {"order": "42", "note": ""},
    "payment_method_types": ["card", "link"],
    "card": {"number": "4242424242424242", "exp_month": 12},
}


def test_form_and_json_bodies_validate_to_the_same_data(client):
    form = client.post("/v1/echo", PAYLOAD)
    as_json = client.post("/v1/echo", PAYLOAD, json=True)
    assert form.status_code == 200, form
    assert as_json.status_code == 200, as_json
    assert form.json()["validated"] == as_json.json()["validated"]
    validated = form.json()["validated"]
    assert validated["amount"] == 2000
    assert validated["currency"] == "usd"
    assert validated["confirm"] is True
    assert validated["payment_method_types"] == ["card", "link"]
    assert validated["card"] == {"number": "4242424242424242", "exp_month": 12}


def test_brackets_with_empty_index_parse_as_a_list(client):
    response = client.raw(
        "POST", "/v1/echo", "payment_method_types[]=card&payment_method_types[]=link"
    )
    assert response.json()["validated"]["payment_method_types"] == ["card", "link"]


def test_query_strings_use_bracket_notation_too(client):
    response = client.get("/v1/echo", {"expand": ["a", "b"], "created": {"gte": 5}})
    assert response.json()["params"] == {"expand": ["a", "b"], "created": {"gte": "5"}}


def test_every_response_carries_a_request_id(client):
    ok = client.post("/v1/echo", {"amount": 5})
    bad = client.post("/v1/echo", {"amount": "x"})
    missing = client.get("/v1/does_not_exist")
    ids = {r.headers["Request-Id"] for r in (ok, bad, missing)}
    assert len(ids) == 3
    assert all(i.startswith("req_") for i in ids)


def test_unknown_parameter_is_named(client):
    response = client.post("/v1/echo", {"amount": 5, "status": "succeeded"})
    assert response.status_code == 400
    assert response.error["type"] == "invalid_request_error"
    assert response.error["code"] == "parameter_unknown"
    assert response.error["param"] == "status"


def test_unknown_nested_parameter_is_named_with_brackets(client):
    response = client.post("/v1/echo", {"card": {"number": "4242", "colour": "red"}})
    assert response.status_code == 400
    assert response.error["code"] == "parameter_unknown"
    assert response.error["param"] == "card[colour]"


@pytest.mark.parametrize("value", ["12.5", "12.0", "1e3", "abc", "true"])
def test_non_integer_amounts_are_rejected(client, value):
    response = client.post("/v1/echo", {"amount": value})
    assert response.status_code == 400
    assert response.error["code"] == "parameter_invalid_integer"
    assert response.error["param"] == "amount"


def test_json_floats_are_not_money(client):
    response = client.post("/v1/echo", {"amount": 12.0}, json=True)
    assert response.status_code == 400
    assert response.error["code"] == "parameter_invalid_integer"


def test_metadata_key_too_long_is_named(client):
    response = client.post("/v1/echo", {"metadata": {"k" * 41: "v"}})
    assert response.status_code == 400
    assert response.error["code"] == "parameter_invalid_metadata_key"
    assert response.error["param"] == f"metadata[{'k' * 41}]"


def test_metadata_value_too_long_is_named(client):
    response = client.post("/v1/echo", {"metadata": {"k": "v" * 501}})
    assert response.status_code == 400
    assert response.error["code"] == "parameter_invalid_metadata_value"
    assert response.error["param"] == "metadata[k]"


def test_more_than_fifty_metadata_keys_is_rejected(client):
    response = client.post("/v1/echo", {"metadata": {f"k{i}": "v" for i in range(51)}})
    assert response.status_code == 400
    assert response.error["code"] == "parameter_invalid_metadata"


def test_malformed_json_is_a_clear_400(client):
    response = client.raw("POST", "/v1/echo", '{"amount": 5', content_type="application/json")
    assert response.status_code == 400
    assert response.error["type"] == "invalid_request_error"
    assert "JSON" in response.error["message"]


@pytest.mark.parametrize("body", [" ", "\n", " \r\n\t"])
def test_a_json_body_of_white_space_only_is_malformed_not_empty(client, body):
    """A JSON text holds a value (RFC 8259): white space alone is none, and is refused as
    malformed rather than read as `{}` (only a body with nothing at all is no parameters)."""
    response = client.raw("POST", "/v1/echo", body, content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.error["message"]


def test_json_that_is_not_an_object_is_a_400(client):
    response = client.raw("POST", "/v1/echo", "[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert response.error["type"] == "invalid_request_error"


def test_malformed_form_body_is_a_clear_400(client):
    response = client.raw("POST", "/v1/echo", "card[number=4242")
    assert response.status_code == 400
    assert response.error["code"] == "parameter_invalid_body"


def test_form_body_that_is_not_utf8_is_a_400(client):
    response = client.raw("POST", "/v1/echo", b"description=\xff\xfe")
    assert response.status_code == 400
    assert response.error["type"] == "invalid_request_error"


def test_unsupported_media_type_is_a_415_envelope(client):
    response = client.raw("POST", "/v1/echo", "<a/>", content_type="application/xml")
    assert response.status_code == 415
    assert response.error["code"] == "unsupported_media_type"


def test_oversize_body_is_a_413_envelope(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.raw("POST", "/v1/echo", "description=" + "x" * 5000)
    assert response.status_code == 413
    assert response.error["code"] == "request_too_large"


def test_wrong_method_is_a_405_envelope(client):
    response = client.delete("/v1/echo")
    assert response.status_code == 405
    assert response.error["type"] == "invalid_request_error"
    assert response.headers["Content-Type"] == "application/json"


def test_unknown_url_is_a_404_envelope_without_html(client):
    response = client.get("/v1/nothing/here")
    assert response.status_code == 404
    assert response.error["code"] == "resource_missing"
    assert response.headers["Content-Type"] == "application/json"


def test_unknown_url_is_json_even_with_debug_on(client, settings):
    settings.DEBUG = True
    response = client.get("/v1/nothing", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert json.loads(response.content)["error"]["code"] == "resource_missing"


def test_unknown_url_outside_the_api_is_plain_text_even_with_debug_on(client, settings):
    settings.DEBUG = True
    response = client.get("/nothing", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/plain")
    assert b"Traceback" not in response.content and b"urlpatterns" not in response.content


def test_unhandled_exception_is_a_500_envelope_without_traceback(client, monkeypatch):
    from tests.api import urls_for_tests

    def explode(self, request):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(urls_for_tests.EchoView, "post", explode)
    response = client.post("/v1/echo", {"amount": 5})
    assert response.status_code == 500
    assert response.error["type"] == "api_error"
    assert b"secret internals" not in response.content
    assert b"Traceback" not in response.content


def test_accept_header_cannot_turn_errors_into_html(client):
    response = client.get("/v1/echo", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")


def test_error_envelope_has_every_field(client):
    error = client.post("/v1/echo", {"nope": 1}).error
    assert set(error) >= {
        "type",
        "code",
        "param",
        "message",
        "request_log_url",
        "decline_code",
        "payment_intent",
    }


def test_a_missing_object_is_404_in_the_url_and_400_in_a_parameter(client):
    """404 is for the object the URL names; an object a parameter names that does not exist is
    a bad request (400 `resource_missing`, naming the parameter), as Stripe answers it."""
    intent = client.post("/v1/payment_intents", {"amount": 2000, "currency": "usd"}).json()
    response = client.post(f"/v1/payment_intents/{intent['id']}", {"customer": "cus_nobody"})
    assert response.status_code == 400
    assert (response.error["code"], response.error["param"]) == ("resource_missing", "customer")
    assert client.get(f"/v1/payment_intents/{intent['id']}").status_code == 200
    response = client.get("/v1/payment_intents/pi_nobodyOwnsThis0000")
    assert response.status_code == 404
    assert (response.error["code"], response.error["param"]) == ("resource_missing", "id")
    response = client.get("/v1/payment_intents", {"starting_after": "pi_nobodyOwnsThis0000"})
    assert response.status_code == 400 and response.error["param"] == "starting_after"


def test_an_update_amount_checked_against_the_stored_currency_says_so_in_its_code(client):
    """An intent's new amount checked against the currency it keeps (the request gives none):
    `amount_too_small_for_object`, as the same request may succeed on another intent; with the
    currency given, the request alone breaks the rule: `amount_too_small`."""
    intent = client.post("/v1/payment_intents", {"amount": 2000, "currency": "usd"}).json()
    path = f"/v1/payment_intents/{intent['id']}"
    stored = client.post(path, {"amount": 1})
    assert (stored.status_code, stored.error["code"]) == (400, "amount_too_small_for_object")
    given = client.post(path, {"amount": 1, "currency": "usd"})
    assert (given.status_code, given.error["code"]) == (400, "amount_too_small")
    assert client.get(path).json()["amount"] == 2000
