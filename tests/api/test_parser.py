"""The form/bracket parser: every shape the official Stripe libraries send."""

import pytest

from api.parsers import parse_query_string
from core.errors import InvalidRequestError


@pytest.mark.parametrize(
    "query, expected",
    [
        ("amount=100", {"amount": "100"}),
        ("metadata[order]=42", {"metadata": {"order": "42"}}),
        ("a[b][c]=1", {"a": {"b": {"c": "1"}}}),
        ("expand[]=latest_charge&expand[]=customer", {"expand": ["latest_charge", "customer"]}),
        ("expand[0]=latest_charge&expand[1]=customer", {"expand": ["latest_charge", "customer"]}),
        ("items[1][price]=b&items[0][price]=a", {"items": [{"price": "a"}, {"price": "b"}]}),
        ("items[][price]=a&items[][price]=b", {"items": [{"price": "a"}, {"price": "b"}]}),
        ("description=", {"description": ""}),
        ("metadata[order]=", {"metadata": {"order": ""}}),
        ("metadata=", {"metadata": ""}),
        (
            "card[exp_month]=12&card[exp_year]=2030",
            {"card": {"exp_month": "12", "exp_year": "2030"}},
        ),
        ("note=a%26b%3Dc", {"note": "a&b=c"}),
        ("name=J%C3%BCrgen+M", {"name": "Jürgen M"}),
        ("metadata[x-y.z]=1", {"metadata": {"x-y.z": "1"}}),
    ],
)
def test_bracket_notation_parses_like_stripe(query, expected):
    assert parse_query_string(query) == expected


@pytest.mark.parametrize(
    "query",
    ["a[b=1", "a]b=1", "a[b]c=1", "[x]=1", "a=1&a[b]=2", "a[b]=1&a=2", "a=1&a=2", "a[0]=1&a[0]=2"],
)
def test_malformed_or_conflicting_keys_are_rejected(query):
    with pytest.raises(InvalidRequestError) as info:
        parse_query_string(query)
    assert info.value.code == "parameter_invalid_body"
    assert info.value.param


def test_indexed_keys_that_are_not_all_numbers_stay_a_hash():
    assert parse_query_string("metadata[0]=a&metadata[key]=b") == {
        "metadata": {"0": "a", "key": "b"}
    }
