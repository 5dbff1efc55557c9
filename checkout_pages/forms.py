"""The hosted page's form: what the shopper typed, checked field by field (each error belongs to
its field) with the rules the API applies to the same values, before anything reaches the
processor.

Each rule has one home, used from here rather than copied: the length limits are the API
serializers' own (`api.serializers`, `payments.api.serializers`), a card number loses its spaces
and dashes as the processor's `normalize_number` drops them, and an amount is read and bounded
by `core.money`. What only the processor decides (a number's length and Luhn check, a month from
1 to 12, an expired card, a CVC of 3 or 4 digits) stays with it: the page shows its answer (402)
at the field it names.

The card number and CVC live only in `cleaned_data` and the RawCard made from it: never logged,
stored, or written back into the page.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from api.serializers import AddressSerializer
from core.errors import InvalidRequestError
from core.money import parse_major_amount, validate_amount_for_currency
from payments.api.serializers import BillingDetailsParamsSerializer, CardParamsSerializer
from payments.processors.base import RawCard
from payments.processors.simulated import normalize_number

from .models import CheckoutIntent

ADDRESS_FIELDS = ("line1", "line2", "city", "state", "postal_code", "country")
REQUIRED_ADDRESS_FIELDS = ("line1", "city", "postal_code", "country")


def api_max_length(serializer_class, name: str) -> int:
    """The API's length limit on one of its parameters, read off its serializer's field."""
    return serializer_class().fields[name].max_length


def ascii_digits(text: str) -> bool:
    """0-9 only, as the API reads integers: `str.isdigit` alone takes "٣" and "²"."""
    return text.isascii() and text.isdigit()


def parse_expiry(raw: str) -> tuple[int, int] | None:
    """ "MM / YY", "MM/YYYY", "MMYY" → (month, four-digit year), or None."""
    compact = raw.replace(" ", "")
    month, slash, year = compact.partition("/")
    if not slash and len(compact) == 4:
        month, year = compact[:2], compact[2:]
    if not (ascii_digits(month) and ascii_digits(year)):
        return None
    if len(month) > 2 or len(year) not in (2, 4):
        return None
    return int(month), int(year) + (2000 if len(year) == 2 else 0)


def address_field(name: str) -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=api_max_length(AddressSerializer, name),
        error_messages={"required": "Required."},
    )


class CheckoutForm(forms.Form):
    """The card, the name on it, and what this checkout asks besides: the amount when the
    shopper chooses it, the billing address when the merchant wants it."""

    number = forms.CharField(
        max_length=api_max_length(CardParamsSerializer, "number"),
        error_messages={"required": "Enter your card number."},
    )
    exp = forms.CharField(error_messages={"required": "Enter the expiry date as MM / YY."})
    cvc = forms.CharField(
        max_length=api_max_length(CardParamsSerializer, "cvc"),
        error_messages={"required": "Enter the security code."},
    )
    name = forms.CharField(
        max_length=api_max_length(BillingDetailsParamsSerializer, "name"),
        error_messages={"required": "Enter the name on the card."},
    )
    amount = forms.CharField(error_messages={"required": "Enter an amount, like 12.50."})
    line1 = address_field("line1")
    line2 = address_field("line2")
    city = address_field("city")
    state = address_field("state")
    postal_code = address_field("postal_code")
    country = address_field("country")

    def __init__(self, data, *, checkout_intent: CheckoutIntent):
        super().__init__(data)
        self.currency = checkout_intent.currency
        if not (checkout_intent.amount_editable and checkout_intent.pays):
            del self.fields["amount"]
        if checkout_intent.billing_address:
            for name in REQUIRED_ADDRESS_FIELDS:
                self.fields[name].required = True
        else:
            for name in ADDRESS_FIELDS:
                del self.fields[name]

    def clean_number(self) -> str:
        number = normalize_number(self.cleaned_data["number"])
        if not ascii_digits(number):
            raise ValidationError("Enter your card number using digits only.")
        return number

    def clean_exp(self) -> tuple[int, int]:
        expiry = parse_expiry(self.cleaned_data["exp"])
        if expiry is None:
            raise ValidationError("Enter the expiry date as MM / YY.")
        return expiry

    def clean_cvc(self) -> str:
        cvc = self.cleaned_data["cvc"]
        if not ascii_digits(cvc):
            raise ValidationError("Enter the security code using digits only.")
        return cvc

    def clean_amount(self) -> int:
        text = self.cleaned_data["amount"]
        amount = parse_major_amount(text, self.currency) if text.isascii() else None
        if amount is None:
            raise ValidationError("Enter an amount, like 12.50.")
        try:
            validate_amount_for_currency(amount, self.currency)
        except InvalidRequestError as exc:
            raise ValidationError(exc.message) from None
        return amount

    # --- what the page pays with (once valid) -------------------------------------------------

    def card(self) -> RawCard:
        exp_month, exp_year = self.cleaned_data["exp"]
        return RawCard(
            number=self.cleaned_data["number"],
            exp_month=exp_month,
            exp_year=exp_year,
            cvc=self.cleaned_data["cvc"],
        )

    def billing_details(self) -> dict:
        billing = {"name": self.cleaned_data["name"]}
        if "line1" in self.fields:
            billing["address"] = {name: self.cleaned_data[name] or None for name in ADDRESS_FIELDS}
        return billing
