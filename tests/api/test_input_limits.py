"""Hostile input never reaches a 500: each case answers 400 (or 404 for a path id) in the error
envelope, names the parameter, and changes no row of any account."""

from __future__ import annotations

import json

import pytest

from tests.conftest import committed_for_module, make_account
from tests.helpers import StripeTestClient
from tests.security.world import build_world, snapshot, v1_routes

URL = "/v1/payment_intents"
BASE = "amount=2000&currency=usd"


@pytest.fixture(scope="module")
def _acct_and_world(django_db_setup, django_db_blocker):
    def build():
        acct = make_account("Acme")
        return acct, build_world(acct)

    yield from committed_for_module(django_db_blocker, build)


@pytest.fixture
def acct(_acct_and_world, db):
    return _acct_and_world[0]


@pytest.fixture
def world(_acct_and_world, db):
    return _acct_and_world[1]


@pytest.fixture
def unchanged(world):
    """Asserts, after the test, that no scoped row of any account changed."""
    before = snapshot()
    yield
    assert snapshot() == before


def _form(client, path: str, body: str):
    return client.raw("POST", path, body.encode("utf-8") if isinstance(body, str) else body)


def _json(client, path: str, body: str | bytes):
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    return client.raw("POST", path, raw, content_type="application/json")


def _get(client, path: str, query: str):
    return client.raw("GET", f"{path}?{query}", b"")


def _assert_400(response, *, code: str | None = None, param: str | None = None):
    assert response.status_code == 400, response
    error = response.error
    assert error["type"] == "invalid_request_error"
    if code:
        assert error["code"] == code, error
    if param is not None:
        assert error["param"] == param, error
    return error


# --- nesting ----------------------------------------------------------------------------------


def test_form_body_nested_a_thousand_levels_is_refused(client, unchanged):
    key = "metadata" + "[a]" * 1000
    _assert_400(_form(client, URL, f"{BASE}&{key}=x"), code="parameter_invalid_depth")


def test_form_body_nested_just_past_the_limit_is_refused_and_names_the_param(client, unchanged):
    key = "shipping" + "[a]" * 9
    error = _assert_400(_form(client, URL, f"{BASE}&{key}=x"), code="parameter_invalid_depth")
    assert error["param"] == "shipping"


def test_query_string_nested_a_thousand_levels_is_refused(client, unchanged):
    _assert_400(
        _get(client, URL, "created" + "[gte]" * 1000 + "=1"), code="parameter_invalid_depth"
    )


def test_json_nested_a_thousand_levels_is_refused(client, unchanged):
    body = '{"amount": 2000, "currency": "usd", "metadata": ' + '{"a": ' * 1000 + "1" + "}" * 1001
    _assert_400(_json(client, URL, body), code="parameter_invalid_depth")


def test_json_arrays_nested_a_hundred_thousand_levels_are_refused(client, unchanged):
    body = '{"amount": 2000, "currency": "usd", "expand": ' + "[" * 100_000 + "]" * 100_000 + "}"
    _assert_400(_json(client, URL, body), code="parameter_invalid_depth")


# --- NUL bytes and lone surrogates --------------------------------------------------------------


def test_nul_byte_in_metadata_is_refused(client, unchanged):
    _assert_400(
        _form(client, URL, f"{BASE}&metadata[order]=a%00b"),
        code="parameter_invalid_string",
        param="metadata[order]",
    )


def test_nul_byte_in_payment_method_options_is_refused(client, unchanged):
    body = json.dumps(
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method_options": {"card": {"request_three_d_secure": "any\u0000"}},
        }
    )
    _assert_400(
        _json(client, URL, body),
        code="parameter_invalid_string",
        param="payment_method_options[card][request_three_d_secure]",
    )


def test_nul_byte_in_a_parameter_name_is_refused(client, unchanged):
    _assert_400(_form(client, URL, f"{BASE}&metadata[a%00]=1"), code="parameter_invalid_string")


@pytest.mark.parametrize(
    "field, value, param",
    [
        ("currency", "\\ud800sd", "currency"),
        ("expand", ["\\udfff"], "expand[0]"),
        ("metadata", {"k": "v\\ud83d"}, "metadata[k]"),
        ("metadata", {"\\ud800": "v"}, "metadata"),
    ],
)
def test_lone_surrogates_in_json_are_refused(client, unchanged, field, value, param):
    body = json.dumps({"amount": 2000, "currency": "usd", field: value}).replace("\\\\u", "\\u")
    _assert_400(_json(client, URL, body), code="parameter_invalid_string", param=param)


def test_bytes_that_are_not_utf8_once_percent_decoded_are_refused(client, unchanged):
    _assert_400(_form(client, URL, f"{BASE}&description=%ED%A0%80"), code="parameter_invalid_body")


def test_nul_or_garbage_path_id_on_every_id_route_is_404(acct, world, unchanged):
    client = StripeTestClient(key=acct.sk)
    routes = [r for r in v1_routes() if r.has_id]
    assert routes
    for route in routes:
        for method in route.methods:
            for bad in ("pi_abc%00def", "%00", "4242424242424242", "pi_%F0%9F%92%A5", "a" * 400):
                response = client.raw(method, route.url(bad), b"")
                assert response.status_code == 404, (method, route.template, bad, response)
                assert response.error["code"] == "resource_missing"


# --- integers and timestamps --------------------------------------------------------------------


def test_arabic_indic_digits_are_not_an_integer(client, unchanged):
    _assert_400(
        _form(client, URL, "amount=%D9%A1%D9%A0%D9%A0%D9%A0&currency=usd"),
        code="parameter_invalid_integer",
        param="amount",
    )


def test_fullwidth_digits_in_json_strings_are_not_an_integer(client, unchanged):
    body = json.dumps({"amount": "\uff11\uff10\uff10\uff10", "currency": "usd"}, ensure_ascii=False)
    _assert_400(_json(client, URL, body), code="parameter_invalid_integer", param="amount")


@pytest.mark.parametrize("amount", ["1" + "0" * 30, str(2**63), "-" + "9" * 25])
def test_integers_past_64_bits_are_refused(client, unchanged, amount):
    _assert_400(
        _form(client, URL, f"amount={amount}&currency=usd"),
        code="parameter_invalid_integer",
        param="amount",
    )


def test_json_nan_and_infinity_are_refused(client, unchanged):
    _assert_400(
        _json(client, URL, '{"amount": NaN, "currency": "usd"}'), code="parameter_invalid_number"
    )
    _assert_400(
        _json(client, URL, '{"amount": 1e999, "currency": "usd"}'), code="parameter_invalid_number"
    )


def test_created_far_in_the_future_is_refused_on_every_list(acct, world, unchanged):
    client = StripeTestClient(key=acct.sk)
    lists = [r for r in v1_routes() if "GET" in r.methods and not r.has_id]
    assert lists
    checked = 0
    for route in lists:
        for query in ("created=99999999999999", "created[gte]=99999999999999", "created=-5"):
            response = _get(client, route.url(), query)
            assert response.status_code == 400, (route.template, query, response)
            code = response.error.get("code")
            if code == "parameter_invalid_hash" and query.startswith("created="):
                continue  # a list whose `created` is only a range hash (created[gte]=…)
            if code != "parameter_unknown":
                assert code == "parameter_invalid_integer"
                assert response.error["param"].startswith("created")
                checked += 1
    assert checked  # at least the payment-intent list filters on created


# --- sizes ---------------------------------------------------------------------------------------


def test_an_array_of_ten_thousand_entries_is_refused(client, unchanged):
    body = json.dumps(
        {"amount": 2000, "currency": "usd", "payment_method_types": ["card"] * 10_000}
    )
    _assert_400(
        _json(client, URL, body), code="parameter_invalid_array", param="payment_method_types"
    )


def test_a_form_array_past_the_limit_is_refused(client, unchanged):
    items = "&".join(f"payment_method_types[{i}]=card" for i in range(101))
    _assert_400(
        _form(client, URL, f"{BASE}&{items}"),
        code="parameter_invalid_array",
        param="payment_method_types",
    )


def test_a_hash_with_too_many_keys_is_refused(client, unchanged):
    body = json.dumps(
        {"amount": 2000, "currency": "usd", "shipping": {f"k{i}": "v" for i in range(201)}}
    )
    _assert_400(_json(client, URL, body), code="parameter_invalid_hash", param="shipping")


def test_a_string_past_the_limit_is_refused(client, unchanged):
    _assert_400(
        _form(client, URL, f"{BASE}&description={'x' * 5001}"),
        code="parameter_invalid_string_too_long",
        param="description",
    )


# --- duplicate keys ------------------------------------------------------------------------------


def test_a_form_parameter_given_twice_is_refused(client, unchanged):
    _assert_400(
        _form(client, URL, "amount=1000&amount=2000&currency=usd"),
        code="parameter_invalid_body",
        param="amount",
    )


def test_a_query_parameter_given_twice_is_refused(client, unchanged):
    _assert_400(_get(client, URL, "limit=1&limit=2"), code="parameter_invalid_body", param="limit")


def test_a_json_key_given_twice_is_refused(client, unchanged):
    _assert_400(
        _json(client, URL, '{"amount": 1000, "amount": 2000, "currency": "usd"}'),
        code="parameter_invalid_body",
        param="amount",
    )


def test_repeated_array_brackets_still_build_an_array(client):
    response = _form(client, URL, f"{BASE}&payment_method_types[]=card&expand[]=customer")
    assert response.status_code == 200, response
    assert response.json()["payment_method_types"] == ["card"]


@pytest.mark.parametrize(
    "param", ["created", "created[gt]", "created[gte]", "created[lt]", "created[lte]"]
)
@pytest.mark.parametrize("path", ["/v1/charges", "/v1/setup_intents", "/v1/payment_intents"])
def test_the_last_second_a_created_filter_takes_is_a_list_not_a_500(client, path, param):
    """`created=253402300799` (9999-12-31T23:59:59Z, the largest the API takes) filters up to
    the end of time: its `seconds + 1` bound is not a server error."""
    response = client.get(path, {param: "253402300799"})
    assert response.status_code == 200, response.json()
    assert response.json()["object"] == "list"
