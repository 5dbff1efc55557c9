"""Input validation in the Stripe dialect.

Every request serializer derives from `StrictSerializer`: a parameter that is not a writable
field (read-only fields included) is `parameter_unknown`; field errors carry Stripe codes and
the bracket path of the parameter (`metadata[order]`, `shipping[address][line1]`). The exception
handler in `api.errors` turns the first error into the envelope.
"""

from __future__ import annotations

import copy
import re
import threading

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.drainage import get_override, set_override
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField, get_error_detail
from rest_framework.utils import html

from core import metadata as metadata_rules
from core.errors import InvalidRequestError, ParameterUnknown
from core.metadata import METADATA_CLEAR
from core.money import MAX_AMOUNT, is_supported_currency
from core.web import MAX_URL_LENGTH

# --- fields -----------------------------------------------------------------------------------

# ASCII digits only: `\d` (and int()) would also take Arabic-Indic or full-width digits; the
# whole value, matched with `fullmatch` (no surrounding spaces, no trailing newline, which `$`
# would let through).
_INT = re.compile(r"-?[0-9]+")
# No integer parameter goes past a signed 64-bit column; beyond that it is refused, not a 500.
INT64_MAX = 2**63 - 1
# `created` filters and every other timestamp: unix seconds from 1970 through year 9999.
TIMESTAMP_MAX = 253402300799


class StrictIntegerField(serializers.IntegerField):
    """An integer and nothing else: no floats, no "12.0", no booleans."""

    default_error_messages = {
        "invalid": "Invalid integer: {value}",
        "max_value": "This value must be less than or equal to {max_value}",
        "min_value": "This value must be greater than or equal to {min_value}",
    }

    def __init__(self, *, service_min: int | None = None, service_max: int | None = None, **kwargs):
        """`service_min`/`service_max`: bounds that the service behind the field checks, with
        its own message (Stripe's "Invalid positive integer"); the document states them as
        `minimum`/`maximum`, the field does not check them itself."""
        super().__init__(**kwargs)
        # What the document states (drf-spectacular reads these): the field's own bounds, else
        # the service's, else the 64-bit range `to_internal_value` refuses past ("… is out of
        # range"), which has its own check and message, so no validator is added for it.
        if self.min_value is None:
            self.min_value = -INT64_MAX if service_min is None else service_min
        if self.max_value is None:
            self.max_value = INT64_MAX if service_max is None else service_max

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid", value=data)
        if isinstance(data, int):
            value = data
        elif isinstance(data, str) and len(data) <= 40 and _INT.fullmatch(data):
            value = int(data)
        else:
            raise serializers.ValidationError(
                f"Invalid integer: {str(data)[:40]!r}", code="parameter_invalid_integer"
            )
        if not -INT64_MAX <= value <= INT64_MAX:
            raise serializers.ValidationError(
                f"Invalid integer: {str(value)[:40]} is out of range.",
                code="parameter_invalid_integer",
            )
        for validator in self.validators:
            validator(value)
        return value

    def run_validators(self, value):
        try:
            super().run_validators(value)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(exc.detail, code="parameter_invalid_integer")


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Invalid boolean: {input}"}

    def to_internal_value(self, data):
        if data in (True, "true", "True", "1", 1) and not (isinstance(data, float)):
            return True
        if data in (False, "false", "False", "0", 0) and not (isinstance(data, float)):
            return False
        raise serializers.ValidationError(
            f"Invalid boolean: {str(data)[:40]}", code="parameter_invalid_boolean"
        )


class StringField(serializers.CharField):
    """A string; an empty string means "unset" (None) unless `allow_blank`.

    `checked_pattern`: the pattern a `validate_<name>` method or the service holds the value to,
    with its own message; the document states it (`pattern`,
    `api.schema.StringFieldSchema`), the field does not check it itself.

    `field_schema`: what a kind of string states beside `type: string` (a `format`, a
    `pattern`), under its description and nullability (`api.schema.StringFieldSchema`, which
    then says, as for every string, that an optional one takes `""` as unset)."""

    field_schema: dict = {}

    def __init__(self, *, checked_pattern: str | None = None, **kwargs):
        self.checked_pattern = checked_pattern
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        # (A form carries only text; a JSON number is no string either, as the schema says.)
        if isinstance(data, dict | list | bool | int | float):
            raise serializers.ValidationError(
                "Invalid string: expected a string.", code="parameter_invalid_string"
            )
        if data == "" and not self.allow_blank:
            return None
        value = super().to_internal_value(data)
        return value

    def validate_empty_values(self, data):
        if data == "" and not self.allow_blank:
            return True, None
        return super().validate_empty_values(data)

    def run_validation(self, data=serializers.empty):
        # A required string given empty or null is missing, as the document says (it is not
        # `nullable` there): acting on it as null would act on half a request.
        if (
            self.required
            and self.allow_null
            and (data is None or (data == "" and not self.allow_blank))
        ):
            self.fail("required")
        # CharField.run_validation fails "blank" before validate_empty_values is reached.
        if data == "" and not self.allow_blank:
            if not self.allow_null:
                self.fail("blank")
            return None
        return super().run_validation(data)


class EnumField(serializers.ChoiceField):
    """One of `choices`. `unavailable`: values a Stripe client may send that this service does
    not offer, each refused with its own message; the document's `enum` is `choices` alone."""

    def __init__(self, *, unavailable: dict[str, str] | None = None, **kwargs):
        self.unavailable = unavailable or {}
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if data == "" and self.allow_blank:
            return ""
        if isinstance(data, str) and data in self.unavailable:
            raise serializers.ValidationError(
                self.unavailable[data], code="parameter_invalid_string"
            )
        try:
            return self.choice_strings_to_values[str(data)]
        except KeyError:
            valid = ", ".join(str(c) for c in self.choices)
            raise serializers.ValidationError(
                f"Invalid {self.field_name}: must be one of {valid}",
                code="parameter_invalid_string",
            )


@extend_schema_field(
    {
        "type": "string",
        "format": "currency",
        "description": "Three-letter ISO currency code, in lowercase (`usd`). Must be a supported "
        "currency.",
    }
)
class CurrencyField(serializers.CharField):
    """A currency code: a string in the schema, as Stripe publishes it (an enum of every
    supported code would make each generated client refuse `"usd"` unless given its enum
    member), with `format: currency`, which the API reference defines
    (api/openapi_description.md); the codes accepted are checked here, answering the API's own
    error. Like Stripe, the code is taken in either case (`USD` is `usd`), but with nothing
    around it: ` usd ` is refused, as an integer with spaces around it is."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 3)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("Invalid currency.", code="parameter_invalid_string")
        code = data.lower()
        if not is_supported_currency(code):
            raise serializers.ValidationError(
                f"Invalid currency: {data[:10]}. Use a lowercase three-letter ISO code.",
                code="parameter_invalid_string",
            )
        return code


class SearchPageField(StringField):
    """A search's `page`: the opaque token a previous answer gave as `next_page`
    (`api.search_pagination`), in the schema `format: search-page`, which the API reference
    defines, with the token's shape as a `pattern`."""

    field_schema = {
        "format": "search-page",
        "pattern": "^page_[A-Za-z0-9_-]+$",
        "description": "The `next_page` of the previous answer, for the page after it (empty: "
        "the first page).",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 500)
        super().__init__(**kwargs)


#: What `HttpUrlField` and an origin state in the schema besides `format: uri`: the scheme.
HTTP_URL_PATTERN = "^[Hh][Tt][Tt][Pp][Ss]?://"


class HttpUrlField(StringField):
    """A URL the service will send a customer to (a `return_url`, a redirect): in the schema
    `format: uri` and the http(s) scheme as a `pattern`; the service checks it
    (`core.web.absolute_http_url`, which also refuses a loopback host in live mode)."""

    field_schema = {
        "format": "uri",
        "pattern": HTTP_URL_PATTERN,
        "description": "An absolute http or https URL with a host (RFC 3986: non-ASCII "
        "characters percent-encoded).",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_URL_LENGTH)
        super().__init__(**kwargs)


@extend_schema_field(
    {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_AMOUNT,
        "description": "An amount in the currency's smallest unit (cents for usd, yen for jpy).",
    }
)
class AmountField(StrictIntegerField):
    """An amount in minor units. The schema states its bounds (1 to `MAX_AMOUNT`); the services
    check them with the currency's own minimum, answering `amount_too_small` /
    `amount_too_large`."""


# Metadata in the schema, in and out: string values under any key, with no `type` keyword, so
# the generated clients take and give a plain dict / object (openapi-python-client makes a
# wrapper class of every `type: object`; openapi-typescript reads this as `{[key]: string}`).
# `api.schema.plain_metadata` gives every `metadata` property this shape.
PLAIN_METADATA = {"additionalProperties": {"type": "string"}}

#: A metadata hash's keys (`MetadataField`), as JSON Schema's `propertyNames` would say it (OpenAPI
#: 3.0 has no keyword for a hash's keys): 1 to 40 characters, no square bracket (a key with one
#: cannot be written in bracket notation, `metadata[a[b]]=…`).
METADATA_KEYS = {
    "type": "string",
    "minLength": 1,
    "maxLength": metadata_rules.MAX_KEY_LENGTH,
    "pattern": r"^[^\[\]]*$",
}

#: Metadata in a request (`MetadataField`): PLAIN_METADATA (still no `type`, so the generated
#: clients take a plain dict), with what the API checks stated in OpenAPI 3.0 keywords: a hash
#: (`not` any other JSON type but the empty string, `metadata=""`, which removes every key; JSON's
#: `null` too), at most 50 keys, each value a string of at most 500 characters or empty (or
#: `null`) to remove the key; and the keys' rule, which OpenAPI 3.0 cannot state, as
#: `x-property-names` (honoured by the fuzz tests, tests/test_fuzz.py).
REQUEST_METADATA = {
    "not": {
        "anyOf": [
            {"type": "string", "minLength": 1},
            {"type": "number"},
            {"type": "boolean"},
            {"type": "array", "items": {}},
        ]
    },
    "maxProperties": metadata_rules.MAX_KEYS,
    "additionalProperties": {
        "type": "string",
        "maxLength": metadata_rules.MAX_VALUE_LENGTH,
        "nullable": True,
    },
    "x-property-names": METADATA_KEYS,
}


class ListParamField(serializers.ListField):
    """A list parameter whose service refuses an empty one with its own message (a missing
    parameter, as Stripe says it): `service_min_length` is stated in the document
    (`minItems`, `api.schema.ListParamFieldSchema`), not checked by the field."""

    def __init__(self, *, service_min_length: int | None = None, **kwargs):
        self.service_min_length = service_min_length
        super().__init__(**kwargs)


@extend_schema_field({"type": "string", "minLength": 1, "pattern": r"\S"})
class ListItemField(serializers.CharField):
    """An item of a `StringListField`: a string with something besides white space (the
    surrounding white space is trimmed, and an item left empty is refused as blank)."""


class StringListField(serializers.ListField):
    """`a[]=x&a[]=y`, `a[0]=x` or a JSON list. A string is no array: "Invalid array", as
    Stripe answers `expand=x`; the empty value (`a=`, `""`) is null, taken where null is."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", ListItemField())
        super().__init__(**kwargs)

    def validate_empty_values(self, data):
        if data == "" and self.allow_null:
            return True, None
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise serializers.ValidationError("Invalid array.", code="parameter_invalid_array")
        return super().to_internal_value(data)


#: The payment method types this service takes: a card, nothing else.
PAYMENT_METHOD_TYPES = ("card",)


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "pattern": "^(" + "|".join(PAYMENT_METHOD_TYPES) + ")$"},
    }
)
class PaymentMethodTypesListField(StringListField):
    """`payment_method_types`: each one of `PAYMENT_METHOD_TYPES` (a pattern in the document,
    not an enum, so generated clients take a plain string); the service (or a subclass) refuses
    another with its own message."""


@extend_schema_field(
    {
        **REQUEST_METADATA,
        "description": "Key-value pairs; an empty value (or null) removes a key, and "
        '`metadata=` (in JSON `""` or null) removes all.',
    }
)
class MetadataField(serializers.Field):
    """Stripe metadata: ≤ 50 keys, key ≤ 40 chars without brackets, value a string ≤ 500.

    Returns the patch to apply: {key: value} with None for "remove this key", or the marker
    `METADATA_CLEAR` for `metadata=""` (remove all).
    """

    MAX_KEYS = metadata_rules.MAX_KEYS
    MAX_KEY_LENGTH = metadata_rules.MAX_KEY_LENGTH
    MAX_VALUE_LENGTH = metadata_rules.MAX_VALUE_LENGTH

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def validate_empty_values(self, data):
        # JSON's `"metadata": null` is the form's `metadata=`: remove every key (as `null`
        # clears a hash, `NullableHashMixin`), not a missing parameter.
        if data is None:
            return True, METADATA_CLEAR
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if data == "" or data is None:
            return METADATA_CLEAR
        if isinstance(data, list):  # `metadata[0]=x` parsed as a list
            data = {str(i): v for i, v in enumerate(data)}
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                "Invalid metadata: must be a hash of string keys and string values.",
                code="parameter_invalid_metadata",
            )
        if len(data) > self.MAX_KEYS:
            raise serializers.ValidationError(
                f"Invalid metadata: at most {self.MAX_KEYS} keys are allowed.",
                code="parameter_invalid_metadata",
            )
        out = {}
        for key, value in data.items():
            key = str(key)
            if not key or len(key) > self.MAX_KEY_LENGTH or "[" in key or "]" in key:
                raise serializers.ValidationError(
                    {
                        key: [
                            serializers.ErrorDetail(
                                f"Invalid metadata key {key[:60]!r}: keys are 1 to {self.MAX_KEY_LENGTH} "
                                "characters and may not contain square brackets.",
                                code="parameter_invalid_metadata_key",
                            )
                        ]
                    }
                )
            if isinstance(value, bool | int | float | dict | list):
                raise serializers.ValidationError(
                    {
                        key: [
                            serializers.ErrorDetail(
                                f"Invalid metadata value for {key!r}: must be a string.",
                                code="parameter_invalid_metadata_value",
                            )
                        ]
                    }
                )
            if value is None or value == "":
                out[key] = None
                continue
            value = str(value)
            if len(value) > self.MAX_VALUE_LENGTH:
                raise serializers.ValidationError(
                    {
                        key: [
                            serializers.ErrorDetail(
                                f"Invalid metadata value for {key!r}: at most {self.MAX_VALUE_LENGTH} characters.",
                                code="parameter_invalid_metadata_value",
                            )
                        ]
                    }
                )
            out[key] = value
        return out

    def to_representation(self, value):
        return value


# --- the strict serializer -------------------------------------------------------------------


def _shallow_copy(field):
    """What `copy.copy(field)` makes (a new instance sharing the attribute values), without
    the pickle protocol's detour."""
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    return clone


class _Plan:
    """What validating one StrictSerializer class needs, worked out once per process.

    `templates`: the declared fields, deep-copied once (DRF deep-copies them for every
    serializer instance, so on every request). The templates are never bound nor used to
    validate: a serializer validates with shallow copies of them, which it binds (name,
    parent) itself; what the copies share (validators, choices, messages, a list field's
    child field) is only read while validating.
    `writable`: the parameters it takes. `needed_when_absent`: the fields that still do
    something when their parameter is not sent (required ones, which fail, and those with a
    default); every other absent field would only be skipped, so it is not even built."""

    __slots__ = ("templates", "writable", "names", "needed_when_absent", "has_read_only")

    def __init__(self, serializer_class: type[StrictSerializer]):
        self.templates: dict = copy.deepcopy(serializer_class._declared_fields)
        self.templates.update(serializer_class.trailing_fields())
        #: (name, template) of each writable field, in declaration order.
        self.writable = tuple(
            (name, field) for name, field in self.templates.items() if not field.read_only
        )
        probe = serializer_class()
        self.needed_when_absent = frozenset(
            name
            for name, template in self.writable
            if not _skipped_when_absent(_bound_copy(template, name, probe))
        )
        self.names = frozenset(name for name, _ in self.writable)
        self.has_read_only = len(self.writable) < len(self.templates)


#: On a serializer's component (set as an extension, the only keys drf-spectacular lets a
#: serializer add): the fewest parameters a hash takes, stated as `minProperties`
#: (`api.schema.state_min_properties`).
MIN_PROPERTIES = "x-min-properties"

PARAMETER_RULE_EXTENSIONS = (
    "x-mutually-exclusive-parameters",
    "x-required-one-of",
    "x-required-with",
    "x-excluded-with",
    "x-currency-parameters",
    "x-minimum-when",
)


def parameter_rule_extensions(serializer_class) -> dict:
    """A serializer's declared rules between its parameters, as the extensions its component in
    the document carries: `x-mutually-exclusive-parameters` and `x-required-one-of` (lists of
    names), `x-required-with` and `x-excluded-with` (`name` or `name=value` → names),
    `x-currency-parameters` (an amount's name → its currency's), `x-minimum-when` (`name=value`
    → {parameter: least value})."""
    rules = {
        "x-mutually-exclusive-parameters": [list(g) for g in serializer_class.mutually_exclusive],
        "x-required-one-of": [list(g) for g in serializer_class.required_one_of],
        "x-required-with": {k: list(v) for k, v in serializer_class.required_with.items()},
        "x-excluded-with": {k: list(v) for k, v in serializer_class.excluded_with.items()},
        "x-currency-parameters": dict(serializer_class.currency_parameters),
        "x-minimum-when": {k: dict(v) for k, v in serializer_class.minimum_when.items()},
    }
    return {name: rule for name, rule in rules.items() if rule}


def _bound_copy(template, name: str, parent):
    field = _shallow_copy(template)
    field.bind(name, parent)
    return field


def _skipped_when_absent(field) -> bool:
    """Whether DRF would skip this (bound) field when its parameter is absent from a
    non-partial, non-form input: it raises SkipField for an absent value. Anything else (a
    "required" error, a default, another exception) counts as doing something."""
    try:
        field.run_validation(serializers.empty)
    except SkipField:
        return True
    except Exception:  # noqa: BLE001 - conservative: validate it whenever it is absent
        return False
    return False


class StrictSerializer(serializers.Serializer):
    """Rejects every parameter that is not a writable field, nested serializers included."""

    # (A comment: the schema shows a serializer's docstring as its description.) Validates as DRF's `Serializer` does (declaration order, every field's errors collected,
    # `validate_<name>` methods, then `validate`), but builds and runs only the fields whose
    # parameter was sent, plus those that act when absent (`_Plan`): a create that sends 2 of
    # its 22 parameters builds 2 fields, not 22. Form input (a QueryDict, whose absent check
    # boxes mean False) and partial validation take DRF's own path.

    #: Parameters accepted and ignored everywhere (Stripe libraries may send them).
    ALWAYS_ALLOWED = frozenset({"expand"})

    #: Off, every instance validates through DRF's own path (the tests compare the two).
    fast_path = True

    # Rules between this serializer's parameters that OpenAPI 3.0 has no schema for. They are
    # declared here, beside the fields, and enforced where the messages are (the serializer or
    # the service); the document states them on the serializer's component as extensions
    # (`parameter_rule_extensions`) and in words on each operation whose body holds it
    # (`api.schema.state_parameter_rules`), and the fuzz tests' `filter_body` honours them. A
    # name is a parameter of this serializer (`redirects[completed_url]`: one of its hashes');
    # `name=value` is that parameter with that value.
    #: Groups of parameters of which at most one may be given.
    mutually_exclusive: tuple[tuple[str, ...], ...] = ()
    #: Groups of parameters of which at least one must be given (or have the value named).
    required_one_of: tuple[tuple[str, ...], ...] = ()
    #: `name` (or `name=value`) → the parameters required once it is given (has that value).
    required_with: dict[str, tuple[str, ...]] = {}
    #: `name` (or `name=value`) → the parameters refused once it is given (has that value).
    excluded_with: dict[str, tuple[str, ...]] = {}
    #: An amount's name → the name of the parameter giving its currency: the amount must be at
    #: least that currency's minimum, at most `MAX_AMOUNT`, and in a three-decimal currency a
    #: multiple of 10 (`core.money.validate_amount_for_currency`; the document's
    #: `x-currency-amounts` lists the minimums).
    currency_parameters: dict[str, str] = {}
    #: `name=value` → {a number parameter: the least it takes once that holds} (a Payload
    #: transaction's `amount`: a payment's is at least the usd minimum, a refund's is not).
    minimum_when: dict[str, dict[str, float]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        inherited = get_override(cls, "extensions", {})
        others = {k: v for k, v in inherited.items() if k not in PARAMETER_RULE_EXTENSIONS}
        extensions = {**others, **parameter_rule_extensions(cls)}
        if extensions != inherited:
            set_override(cls, "extensions", extensions)

    _plans: dict[type, _Plan] = {}
    _plans_lock = threading.RLock()

    @classmethod
    def _plan(cls) -> _Plan:
        plan = StrictSerializer._plans.get(cls)
        if plan is None:
            with StrictSerializer._plans_lock:
                plan = StrictSerializer._plans.get(cls)
                if plan is None:
                    plan = _Plan(cls)
                    StrictSerializer._plans[cls] = plan
        return plan

    @classmethod
    def trailing_fields(cls) -> dict:
        """Fields after every declared one, subclasses' included (made once per class)."""
        return {}

    def get_fields(self):
        return {name: _shallow_copy(field) for name, field in self._plan().templates.items()}

    def run_validators(self, value):
        # DRF's first builds every field to find read-only ones with defaults to validate
        # with; a class without read-only fields has none, so its fields stay unbuilt.
        if not self.fast_path or self._plan().has_read_only:
            return super().run_validators(value)
        return serializers.Field.run_validators(self, value)

    def to_internal_value(self, data):
        if data == "" and self.parent is not None:
            # A hash with no keys, `{}` in JSON, has no bracket notation: a form writes it
            # `shipping[address]=`. (A hash that `""` clears takes `NullableHashMixin`.)
            data = {}
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        serializers.ErrorDetail(
                            "Invalid hash: expected an object.", code="parameter_invalid_hash"
                        )
                    ]
                }
            )
        plan = self._plan()
        nested = self.parent is not None
        for key in data:
            if key not in plan.names and (nested or key not in self.ALWAYS_ALLOWED):
                raise ParameterUnknown(self._param_path(key))
        if not self.fast_path or html.is_html_input(data) or getattr(self.root, "partial", False):
            return super().to_internal_value(data)
        out: dict = {}
        errors: dict = {}
        needed = plan.needed_when_absent
        for name, template in plan.writable:
            if name not in data and name not in needed:
                continue
            field = _bound_copy(template, name, self)
            validate_method = getattr(self, "validate_" + name, None)
            try:
                value = field.run_validation(field.get_value(data))
                if validate_method is not None:
                    value = validate_method(value)
            except serializers.ValidationError as exc:
                errors[name] = exc.detail
            except DjangoValidationError as exc:
                errors[name] = get_error_detail(exc)
            except SkipField:
                pass
            else:
                self.set_value(out, field.source_attrs, value)
        if errors:
            raise serializers.ValidationError(errors)
        return out

    def _param_path(self, key: str) -> str:
        parts = [key]
        node = self
        while node.parent is not None and node.field_name:
            parts.insert(0, node.field_name)
            node = node.parent
        head, *rest = parts
        return head + "".join(f"[{p}]" for p in rest)


class AddressSerializer(StrictSerializer):
    """A postal address, the one shape every resource accepts (billing details, customers,
    shipping)."""

    city = StringField(
        required=False, max_length=200, help_text="City, district, suburb, town or village."
    )
    country = StringField(
        required=False, max_length=2, help_text="Two-letter country code (ISO 3166-1 alpha-2)."
    )
    line1 = StringField(
        required=False, max_length=500, help_text="Address line 1 (street, PO box or company name)."
    )
    line2 = StringField(
        required=False,
        max_length=500,
        help_text="Address line 2 (apartment, suite, unit or building).",
    )
    postal_code = StringField(required=False, max_length=40, help_text="ZIP or postal code.")
    state = StringField(
        required=False, max_length=200, help_text="State, county, province or region."
    )


class NullableHashMixin:
    """`address=""` (form) or `"address": null` clears a hash, as in Stripe."""

    def validate_empty_values(self, data):
        if data == "" or data is None:
            return True, None
        return super().validate_empty_values(data)


class OptionalAddressSerializer(NullableHashMixin, AddressSerializer):
    pass


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "integer",
                "minimum": 0,
                "maximum": TIMESTAMP_MAX,
                "description": "Exactly this Unix timestamp.",
            },
            {
                "type": "object",
                "properties": {
                    op: {"type": "integer", "minimum": 0, "maximum": TIMESTAMP_MAX}
                    for op in ("gt", "gte", "lt", "lte")
                },
                "additionalProperties": False,
            },
        ],
    }
)
class CreatedFilterField(serializers.JSONField):
    """`created=<ts>` or `created[gte]=<ts>&created[lt]=<ts>`."""


class ListParamsSerializer(StrictSerializer):
    """`limit`, `starting_after`, `ending_before`, `created` filters for every list endpoint."""

    limit = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=100,
        help_text="How many objects to return, 1 to 100 (default 10).",
    )
    starting_after = StringField(
        required=False,
        max_length=255,
        help_text="A cursor: the id of the last object of the previous page; the page starts "
        "after it (newest first).",
    )
    ending_before = StringField(
        required=False,
        max_length=255,
        help_text="A cursor: the id of the first object of the next page; the page ends before "
        "it. Not with `starting_after`.",
    )
    created = CreatedFilterField(
        required=False,
        help_text="Only objects created at this Unix time, or in a range: `created[gte]`, "
        "`created[gt]`, `created[lte]`, `created[lt]`.",
    )

    def validate_created(self, value):
        return parse_created_filter(value)

    def validate(self, attrs):
        if attrs.get("starting_after") and attrs.get("ending_before"):
            raise InvalidRequestError(
                "You may only specify one of these parameters: ending_before, starting_after.",
                code="parameter_invalid_string",
                param="ending_before",
            )
        return attrs


_CREATED_OPS = ("gt", "gte", "lt", "lte")


def _as_int(raw, param: str) -> int:
    if isinstance(raw, bool) or not (
        isinstance(raw, int) or (isinstance(raw, str) and len(raw) <= 40 and _INT.fullmatch(raw))
    ):
        raise InvalidRequestError(
            f"Invalid integer: {str(raw)[:40]!r}", code="parameter_invalid_integer", param=param
        )
    return int(raw)


def as_timestamp(raw, param: str) -> int:
    """Unix seconds, refused (400) outside 0 … year 9999 rather than overflowing a datetime."""
    value = _as_int(raw, param)
    if not 0 <= value <= TIMESTAMP_MAX:
        raise InvalidRequestError(
            f"Invalid timestamp: must be an integer Unix timestamp between 0 and {TIMESTAMP_MAX}.",
            code="parameter_invalid_integer",
            param=param,
        )
    return value


def parse_created_filter(value) -> dict:
    """`created=123` or `created[gte]=…&created[lt]=…` → {"gte": 123, …}; the bare form is "eq"."""
    if isinstance(value, dict):
        out = {}
        for op, raw in value.items():
            if op not in _CREATED_OPS:
                raise ParameterUnknown(f"created[{op}]")
            out[op] = as_timestamp(raw, f"created[{op}]")
        return out
    return {"eq": as_timestamp(value, "created")}


# --- output schemas (documentation only) ------------------------------------------------------


def list_schema(name: str, item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The Stripe list envelope around `item`, as an OpenAPI component named `name`."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "object": serializers.ChoiceField(choices=["list"]),
            "url": serializers.CharField(),
            "has_more": serializers.BooleanField(),
            "data": item(many=True),
            "__module__": item.__module__,
        },
    )


class TimestampField(StrictIntegerField):
    """Unix seconds within 0 … year 9999 (`as_timestamp`), refused as
    `parameter_invalid_integer` naming `param` (e.g. `created[gte]`); the schema states the
    bounds (`minimum`, `maximum`)."""

    def __init__(self, *, param: str, **kwargs):
        self.param = param
        kwargs.setdefault("service_min", 0)
        kwargs.setdefault("service_max", TIMESTAMP_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return as_timestamp(data, self.param)


#: A webhook's URL: an absolute http or https URL, without credentials, whose host is (or
#: resolves to) public addresses only, unless the operator allow-lists a network
#: (`events.ssrf`, which checks it when the webhook is made and before each delivery).
WEBHOOK_URL_FORMAT = "webhook-url"


class WebhookURLField(StringField):
    """A webhook's URL: a string in the schema with the named format (a rule that reaches the
    name system, which no pattern states) and the pattern of its scheme (what a pattern can
    state of it); checked by the service that makes the webhook."""

    field_schema = {"format": WEBHOOK_URL_FORMAT, "pattern": HTTP_URL_PATTERN}
