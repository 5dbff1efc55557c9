"""The hosted page's form on its own: each rule, and that each error belongs to its field. (What
the processor decides—Luhn, a month from 1 to 12, an expired card—is tested through the page.)"""

from __future__ import annotations

import pytest

from api.serializers import AddressSerializer
from checkout_pages.forms import CheckoutForm
from checkout_pages.models import CheckoutIntent, Type
from core.errors import InvalidRequestError
from core.money import validate_amount_for_currency
from payments.api.serializers import BillingDetailsParamsSerializer, CardParamsSerializer
from tests.checkout_pages.conftest import CARD

NUMBER_LIMIT = CardParamsSerializer().fields["number"].max_length
CVC_LIMIT = CardParamsSerializer().fields["cvc"].max_length
NAME_LIMIT = BillingDetailsParamsSerializer().fields["name"].max_length
ADDRESS = {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}


def form_for(fields: dict | None = None, **checkout) -> CheckoutForm:
    """The form as a shopper submits it (CARD, changed by `fields`) to a checkout_page intent
    (changed by `checkout`)."""
    ci = CheckoutIntent(
        **{"type": Type.CHECKOUT_PAGE, "amount": 2000, "currency": "usd", **checkout}
    )
    return CheckoutForm({**CARD, **(fields or {})}, checkout_intent=ci)


def editable(amount: str, currency: str = "usd") -> CheckoutForm:
    return form_for({"amount": amount}, amount=None, currency=currency, amount_editable=True)


def money_error(amount: int, currency: str = "usd") -> str:
    """What core.money says of this amount (the API's answer too)."""
    with pytest.raises(InvalidRequestError) as refused:
        validate_amount_for_currency(amount, currency)
    return refused.value.message


# --- card number --------------------------------------------------------------------------------


def test_a_complete_card_becomes_the_raw_card_to_pay_with():
    form = form_for()
    assert form.is_valid(), form.errors
    card = form.card()
    assert (card.number, card.exp_month, card.exp_year, card.cvc) == (
        "4242424242424242",
        12,
        2034,
        "123",
    )


def test_card_number_spaces_and_dashes_are_dropped():
    form = form_for({"number": " 4242-4242 4242-4242 "})
    assert form.is_valid(), form.errors
    assert form.card().number == "4242424242424242"


def test_card_number_with_letters_is_a_field_error():
    form = form_for({"number": "4242 4242 4242 424x"})
    assert not form.is_valid()
    assert form.errors["number"] == ["Enter your card number using digits only."]


@pytest.mark.parametrize("number", ["４２４２４２４２４２４２４２４２", "424242424242424²"])
def test_card_number_with_digits_other_than_0_to_9_is_a_field_error(number):
    form = form_for({"number": number})
    assert not form.is_valid()
    assert list(form.errors) == ["number"]


def test_card_number_longer_than_the_api_allows_is_a_field_error():
    form = form_for({"number": "4" * (NUMBER_LIMIT + 1)})
    assert not form.is_valid()
    assert list(form.errors) == ["number"]


def test_missing_card_number_is_a_field_error():
    form = form_for({"number": ""})
    assert not form.is_valid()
    assert form.errors["number"] == ["Enter your card number."]


def test_card_number_checksum_is_left_to_the_processor():
    assert form_for({"number": "4242424242424241"}).is_valid()


# --- expiry -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expiry"),
    [("12 / 34", (12, 2034)), ("12/2034", (12, 2034)), ("1234", (12, 2034)), ("1/34", (1, 2034))],
)
def test_expiry_is_read_as_mm_yy_mm_yyyy_or_mmyy(typed, expiry):
    form = form_for({"exp": typed})
    assert form.is_valid(), form.errors
    assert (form.card().exp_month, form.card().exp_year) == expiry


@pytest.mark.parametrize("typed", ["13", "12-34", "ab/cd", "12/345", "123/34", "1a34", "²/34"])
def test_expiry_in_another_shape_is_a_field_error(typed):
    form = form_for({"exp": typed})
    assert not form.is_valid()
    assert form.errors["exp"] == ["Enter the expiry date as MM / YY."]


def test_expiry_with_thousands_of_digits_is_a_field_error_not_a_crash():
    form = form_for({"exp": "1" * 5000 + "/34"})
    assert not form.is_valid()
    assert list(form.errors) == ["exp"]


def test_expiry_month_out_of_range_is_left_to_the_processor():
    form = form_for({"exp": "13 / 34"})
    assert form.is_valid(), form.errors
    assert form.card().exp_month == 13


# --- CVC ----------------------------------------------------------------------------------------


def test_cvc_with_letters_is_a_field_error():
    form = form_for({"cvc": "12a"})
    assert not form.is_valid()
    assert form.errors["cvc"] == ["Enter the security code using digits only."]


def test_cvc_longer_than_the_api_allows_is_a_field_error():
    form = form_for({"cvc": "1" * (CVC_LIMIT + 1)})
    assert not form.is_valid()
    assert list(form.errors) == ["cvc"]


def test_missing_cvc_is_a_field_error():
    form = form_for({"cvc": ""})
    assert not form.is_valid()
    assert form.errors["cvc"] == ["Enter the security code."]


# --- name and billing address -------------------------------------------------------------------


def test_missing_name_is_a_field_error():
    form = form_for({"name": "  "})
    assert not form.is_valid()
    assert form.errors["name"] == ["Enter the name on the card."]


def test_name_longer_than_the_api_allows_is_a_field_error():
    form = form_for({"name": "J" * (NAME_LIMIT + 1)})
    assert not form.is_valid()
    assert list(form.errors) == ["name"]


def test_billing_details_are_the_name_alone_when_no_address_is_asked():
    form = form_for(ADDRESS)
    assert form.is_valid(), form.errors
    assert form.billing_details() == {"name": "Jenny Rosen"}


def test_missing_billing_address_parts_are_errors_at_each_required_field():
    form = form_for({"line2": "Flat 2"}, billing_address=True)
    assert not form.is_valid()
    assert form.errors == {
        name: ["Required."] for name in ("line1", "city", "postal_code", "country")
    }


def test_billing_address_field_longer_than_the_api_allows_is_a_field_error():
    limit = AddressSerializer().fields["country"].max_length
    form = form_for({**ADDRESS, "country": "U" * (limit + 1)}, billing_address=True)
    assert not form.is_valid()
    assert list(form.errors) == ["country"]


def test_billing_address_blank_parts_are_none():
    form = form_for(ADDRESS, billing_address=True)
    assert form.is_valid(), form.errors
    assert form.billing_details()["address"] == {
        **ADDRESS,
        "line2": None,
        "state": None,
    }


# --- amount -------------------------------------------------------------------------------------


def test_amount_is_not_a_field_when_the_checkout_sets_it():
    form = form_for({"amount": "not money"})
    assert form.is_valid(), form.errors
    assert "amount" not in form.fields and form.cleaned_data.get("amount") is None


def test_amount_in_major_units_becomes_minor_units():
    form = editable("1,042.50")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["amount"] == 104250


def test_amount_in_a_zero_decimal_currency_is_whole_units():
    form = editable("500", currency="jpy")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["amount"] == 500


def test_missing_amount_is_a_field_error():
    form = editable("")
    assert not form.is_valid()
    assert form.errors["amount"] == ["Enter an amount, like 12.50."]


def test_amount_with_more_decimals_than_the_currency_has_is_a_field_error():
    form = editable("12.345")
    assert not form.is_valid()
    assert form.errors["amount"] == ["Enter an amount, like 12.50."]


@pytest.mark.parametrize("typed", ["١٢", "１２", "²"])
def test_amount_with_digits_other_than_0_to_9_is_a_field_error(typed):
    form = editable(typed)
    assert not form.is_valid()
    assert form.errors["amount"] == ["Enter an amount, like 12.50."]


def test_amount_below_the_currency_minimum_is_a_field_error():
    form = editable("0.10")
    assert not form.is_valid()
    assert form.errors["amount"] == [money_error(10)]


def test_amount_above_the_api_maximum_is_a_field_error():
    form = editable("1000000.00")
    assert not form.is_valid()
    assert form.errors["amount"] == [money_error(100_000_000)]


def test_amount_in_a_three_decimal_currency_must_end_in_zero():
    form = editable("12.345", currency="kwd")
    assert not form.is_valid()
    assert form.errors["amount"] == [money_error(12345, "kwd")]


# --- every error at its own field ---------------------------------------------------------------


def test_each_bad_field_has_its_own_error_and_the_good_ones_none():
    form = form_for({"number": "4242x", "exp": "13", "cvc": ""})
    assert not form.is_valid()
    assert sorted(form.errors) == ["cvc", "exp", "number"]


def test_an_error_never_repeats_the_card_number_or_cvc():
    form = form_for({"number": "4242 4242 4242 424x", "cvc": "98a"})
    assert not form.is_valid()
    shown = str(form.errors.as_json())
    assert "4242" not in shown and "98a" not in shown
