"""Processor connections and payment flows on the wire: the strict input of each endpoint
(StrictSerializer, Stripe codes and bracket params) and the output schema (the output itself is
`routing.presenters`).

A flow's `routing` is validated here into the one canonical shape `routing.routes.decide`
reads and the API shows (defaults filled in), e.g.
`{"type": "success_rate", "processors": [...], "window": 200, "exploration_percent": 5}`."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from drf_spectacular.drainage import get_override, set_override
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import get_error_detail

from api.serializers import (
    MIN_PROPERTIES,
    REQUEST_METADATA,
    CurrencyField,
    EnumField,
    MetadataField,
    StrictBooleanField,
    StrictIntegerField,
    StrictSerializer,
    StringField,
    WebhookURLField,
    list_schema,
)
from core import metadata as metadata_rules
from core.countries import COUNTRY_ALPHA2
from core.errors import DomainError
from core.money import MAX_AMOUNT

from ..models import Behavior, Circuit, ConnectionKind, ConnectionStatus, RoutingType
from ..routes import DEFAULT_EXPLORATION, DEFAULT_WINDOW, RETRY_ON

#: The card brands the product knows (what a payment method's `card[brand]` can be).
CARD_BRANDS = ("visa", "mastercard", "amex", "discover", "diners", "jcb", "unionpay")
#: The reasons `evaluate` gives for a connection it skipped.
SKIP_REASONS = ("disabled", "circuit_open", "no_token", "deleted")

#: A simulated processor's decline code: lower-case letters, digits and underscores, at least
#: one letter (the schema's `pattern`; `validate_decline_code` checks the same).
_DECLINE_CODE_MESSAGE = (
    "Invalid decline_code: lower-case letters, digits and underscores only "
    "(e.g. `insufficient_funds`)."
)
DECLINE_CODE_PATTERN = RegexValidator(
    r"^[a-z0-9_]*[a-z][a-z0-9_]*$", message=_DECLINE_CODE_MESSAGE, code="parameter_invalid_string"
)
MAX_PROCESSORS = 20  # in one list of a flow
MAX_RULES = 50
MAX_CONDITION_VALUES = 50
MAX_METADATA_CONDITIONS = 20
PROCESSOR_ID_MAX = 64
STRIPE_API_KEY_MAX = 500

# Which `routing[…]` parameters each type takes (besides `type`).
ROUTING_PARAMS = {
    RoutingType.PRIORITY: ("processors",),
    RoutingType.VOLUME_SPLIT: ("split",),
    RoutingType.RULES: ("rules", "default"),
    RoutingType.SUCCESS_RATE: ("processors", "window", "exploration_percent"),
}
#: The parameters of a routing type that may be left out (they have defaults).
ROUTING_OPTIONAL = ("window", "exploration_percent")
_ROUTING_ANY = tuple(dict.fromkeys(name for names in ROUTING_PARAMS.values() for name in names))


# `a[b][c]` → a, b, c
_PARAM_PARTS = re.compile(r"[^\[\]]+")


def _error(message: str, code: str) -> list[serializers.ErrorDetail]:
    return [serializers.ErrorDetail(message, code=code)]


# --- input fields ------------------------------------------------------------------------------


class ArrayField(serializers.ListField):
    """A list with Stripe's codes: `parameter_invalid_array` for what is not a list or is too
    long. `lenient`: one string is a list of one, an empty string an empty list (a form's
    `a=x` or `a=`)."""

    #: Each item appears once (which the subclass checks): the document's `uniqueItems`.
    unique_items = False

    def __init__(
        self,
        *,
        lenient: bool = False,
        unique_by: str | None = None,
        items_sum: dict[str, int] | None = None,
        service_min_length: int | None = None,
        **kwargs,
    ):
        self.lenient = lenient
        #: The fewest items the serializer takes, which it checks with its own message: the
        #: document's `minItems`.
        self.service_min_length = service_min_length
        #: The key each item (a hash) has a value of its own for, which the serializer checks:
        #: the document's `x-unique-items-by` (routing/api/schema.py).
        self.unique_by = unique_by
        #: key → the total the items' values of that key sum to, which the serializer checks:
        #: the document's `x-items-sum`.
        self.items_sum = items_sum
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if self.lenient and isinstance(data, str):
            data = [data] if data else []
        if not isinstance(data, list):
            raise serializers.ValidationError(
                "Invalid array: expected a list.", code="parameter_invalid_array"
            )
        if self.max_length is not None and len(data) > self.max_length:
            raise serializers.ValidationError(
                f"Invalid array: at most {self.max_length} items are allowed.",
                code="parameter_invalid_array",
            )
        return self.run_child_validation(data)

    def run_child_validation(self, data):
        """DRF's, but an error an item raises as a domain error (an unknown parameter inside
        it) names its full param: an item knows its path only from itself down
        (`if[weekday]`), the list adds its own and the index (`routing[rules][0][if][weekday]`)."""
        result, errors = [], {}
        for index, item in enumerate(data):
            try:
                result.append(self.child.run_validation(item))
            except serializers.ValidationError as exc:
                errors[index] = exc.detail
            except DjangoValidationError as exc:
                errors[index] = get_error_detail(exc)
            except DomainError as exc:
                if exc.param:
                    param = self._item_path(index) + "".join(
                        f"[{part}]" for part in _PARAM_PARTS.findall(exc.param)
                    )
                    exc.message = exc.message.replace(exc.param, param)
                    exc.args = (exc.message,)
                    exc.param = param
                raise
        if errors:
            raise serializers.ValidationError(errors)
        return result

    def _item_path(self, index: int) -> str:
        parts: list[str] = []
        node = self
        while node is not None and node.field_name:
            parts.insert(0, node.field_name)
            node = node.parent
        head, *rest = parts + [str(index)]
        return head + "".join(f"[{part}]" for part in rest)


class BoundedIntegerField(StrictIntegerField):
    """An integer within `min_value` … `max_value`; out of bounds is `parameter_invalid_integer`
    (not the validators' own `min_value` / `max_value` codes)."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(
                " ".join(exc.messages), code="parameter_invalid_integer"
            ) from exc


class NamedEnumField(EnumField):
    """An enum whose error names what it is (a list's item has no field name of its own)."""

    def __init__(self, *, label_in_error: str, **kwargs):
        self.label_in_error = label_in_error
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and data in self.choice_strings_to_values:
            return self.choice_strings_to_values[data]
        valid = ", ".join(str(c) for c in self.choices)
        raise serializers.ValidationError(
            f"Invalid {self.label_in_error}: must be one of {valid}",
            code="parameter_invalid_string",
        )


def processor_id_field(**kwargs) -> StringField:
    kwargs.setdefault("help_text", "A processor of this account and mode (`proc_…`).")
    return StringField(max_length=PROCESSOR_ID_MAX, allow_null=False, **kwargs)


class ProcessorIdListField(ArrayField):
    """Processors, best first: at most MAX_PROCESSORS, each named once."""

    unique_items = True

    def __init__(self, **kwargs):
        kwargs.setdefault("child", processor_id_field())
        kwargs.setdefault("max_length", MAX_PROCESSORS)
        super().__init__(lenient=True, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        seen: set[str] = set()
        for index, name in enumerate(value):
            if name in seen:
                raise serializers.ValidationError(
                    {
                        str(index): _error(
                            f"Invalid processor: {name} is named twice; each processor appears "
                            "once in a list.",
                            "parameter_invalid_string",
                        )
                    }
                )
            seen.add(name)
        return value


@extend_schema_field(
    {
        "type": "string",
        "format": "country-alpha2",
        "description": "Two-letter ISO 3166-1 alpha-2 country code, upper case (e.g. `US`; "
        "lower case is accepted), one ISO has assigned.",
    }
)
class CountryAlpha2Field(serializers.CharField):
    """An assigned ISO 3166-1 alpha-2 code; lower case is accepted and made upper case. In the
    schema a string with `format: country-alpha2`, which the API reference defines (the list of
    assigned codes, which only an enum could carry), and no `pattern`: two letters are not yet
    a country, and a tool told "two letters but not this format" would try assigned ones."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(
                "Invalid country: expected a string.", code="parameter_invalid_string"
            )
        code = data.upper()
        if code not in COUNTRY_ALPHA2:
            raise serializers.ValidationError(
                f"Invalid country: {data[:10]!r} is not an ISO 3166-1 alpha-2 country code "
                "(e.g. US, DE, IE).",
                code="parameter_invalid_string",
            )
        return code


def card_brand_field(**kwargs) -> NamedEnumField:
    return NamedEnumField(choices=CARD_BRANDS, label_in_error="card brand", **kwargs)


@extend_schema_field(
    {
        # As a request's metadata (`REQUEST_METADATA`: no `type`, the rules in keywords and
        # `x-property-names`), but a value is never empty: it must be equalled.
        **REQUEST_METADATA,
        # a hash of at least one key: neither empty nor `""` (a request's metadata clears with it)
        "not": {
            "anyOf": [
                {"type": "string"},
                {"type": "number"},
                {"type": "boolean"},
                {"type": "array", "items": {}},
            ]
        },
        "minProperties": 1,
        "maxProperties": MAX_METADATA_CONDITIONS,
        "additionalProperties": {
            "type": "string",
            "minLength": 1,
            "maxLength": metadata_rules.MAX_VALUE_LENGTH,
        },
        "description": "Metadata keys and the value each must equal (at least one key).",
    }
)
class MetadataConditionField(serializers.Field):
    """`{key: value}`: the payment's metadata must hold each key with exactly that value."""

    def validate_empty_values(self, data):
        if data is None:
            return True, {}  # no conditions, as `…[metadata]=` in a form
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if data == "":
            data = {}  # no conditions, as a form writes `{}` (`…[metadata]=`)
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                "Invalid hash: expected keys and values.", code="parameter_invalid_hash"
            )
        if len(data) > MAX_METADATA_CONDITIONS:
            raise serializers.ValidationError(
                f"Invalid hash: at most {MAX_METADATA_CONDITIONS} metadata conditions.",
                code="parameter_invalid_hash",
            )
        out = {}
        for key, value in data.items():
            key = str(key)
            if not key or len(key) > metadata_rules.MAX_KEY_LENGTH or "[" in key or "]" in key:
                raise serializers.ValidationError(
                    {
                        key: _error(
                            f"Invalid metadata key {key[:60]!r}: keys are 1 to "
                            f"{metadata_rules.MAX_KEY_LENGTH} characters without square "
                            "brackets.",
                            "parameter_invalid_string",
                        )
                    }
                )
            if not isinstance(value, str) or value == "":
                raise serializers.ValidationError(
                    {
                        key: _error(
                            f"Invalid metadata value for {key!r}: a non-empty string.",
                            "parameter_invalid_string",
                        )
                    }
                )
            value = str(value)
            if len(value) > metadata_rules.MAX_VALUE_LENGTH:
                raise serializers.ValidationError(
                    {
                        key: _error(
                            f"Invalid metadata value for {key!r}: at most "
                            f"{metadata_rules.MAX_VALUE_LENGTH} characters.",
                            "parameter_invalid_string",
                        )
                    }
                )
            out[key] = value
        return out

    def to_representation(self, value):
        return value


# --- input: processors -------------------------------------------------------------------------


class ProcessorSimulatedSerializer(StrictSerializer):
    """How a simulated processor answers."""

    behavior = EnumField(
        choices=Behavior.values,
        required=False,
        help_text="`normal` (the test cards decide, the default), `decline` (every "
        "authorisation declined with `decline_code`), `outage` (every call fails as a "
        "processor error) or `timeout` (no answer within the call's time limit).",
    )
    decline_code = StringField(
        required=False,
        allow_null=False,
        max_length=64,
        validators=[DECLINE_CODE_PATTERN],
        help_text="The decline code of `behavior=decline` (default `try_again_later`, a soft "
        "decline; e.g. `do_not_honor` for a hard one).",
    )
    latency_ms = BoundedIntegerField(
        required=False,
        min_value=0,
        max_value=10_000,
        help_text="Milliseconds added to every call, 0 to 10000 (default 0).",
    )

    def validate_decline_code(self, value):
        if not (value.replace("_", "").isalnum() and value.isascii() and value.islower()):
            raise serializers.ValidationError(
                _DECLINE_CODE_MESSAGE, code="parameter_invalid_string"
            )
        return value


class ProcessorStripeSerializer(StrictSerializer):
    """A `stripe` processor's upstream: its API key (write-only) and base URL."""

    api_key = StringField(
        required=False,
        allow_null=False,
        max_length=STRIPE_API_KEY_MAX,
        # at least 8 printable ASCII characters, no space, not a publishable key: validate_api_key
        checked_pattern="^(?!pk_)[!-~]{8,}$",
        help_text="Write-only: the secret (or restricted) API key of the upstream account. "
        "Stored encrypted and never shown again (only its last four characters, "
        "`stripe[api_key_last4]`). Required when creating a `stripe` processor; given on "
        "update, it replaces the key.",
    )
    api_base = WebhookURLField(
        required=False,
        max_length=2048,
        help_text="The upstream's base URL (default Stripe's own, `https://api.stripe.com`; "
        "another server speaking Stripe's v1 API, such as another payintents). It must "
        "reach a public address, as webhook URLs must (or a network allowed by "
        "`WEBHOOK_ALLOWED_NETWORKS`). An empty value goes back to the default.",
    )

    def validate_api_key(self, value):
        if len(value) < 8 or not value.isascii() or not value.isprintable() or " " in value:
            raise serializers.ValidationError(
                "Invalid api_key: an API key is at least 8 printable characters without spaces.",
                code="parameter_invalid_string",
            )
        if value.startswith("pk_"):
            raise serializers.ValidationError(
                "Invalid api_key: a publishable key cannot make payments; use a secret "
                "(`sk_…`) or restricted (`rk_…`) key.",
                code="parameter_invalid_string",
            )
        return value


class ProcessorCreateSerializer(StrictSerializer):
    """A new processor connection."""

    required_with = {"kind=stripe": ("stripe[api_key]",)}
    excluded_with = {"kind=stripe": ("simulated",), "kind=simulated": ("stripe",)}

    kind = EnumField(
        choices=ConnectionKind.values,
        help_text="`simulated` (the built-in simulator, configurable with `simulated[…]`) or "
        "`stripe` (any server speaking Stripe's v1 API, with `stripe[api_key]`).",
    )
    name = StringField(
        allow_null=False, max_length=100, help_text="Your label for the processor (≤ 100)."
    )
    simulated = ProcessorSimulatedSerializer(
        required=False, help_text="Only for `kind=simulated`: how the simulator answers."
    )
    stripe = ProcessorStripeSerializer(
        required=False,
        help_text="Only for `kind=stripe` (and then `stripe[api_key]` is required): the "
        "upstream's key and address.",
    )
    metadata = MetadataField(
        help_text="Up to 50 key-value pairs of your own (keys ≤ 40 characters, values ≤ 500)."
    )


class ProcessorUpdateSerializer(StrictSerializer):
    """The changes to a processor connection (what is not given stays)."""

    name = StringField(
        required=False,
        allow_null=False,
        max_length=100,
        help_text="Your label for the processor (≤ 100).",
    )
    status = EnumField(
        choices=ConnectionStatus.values,
        required=False,
        help_text="`active`, or `disabled`: a disabled processor is never chosen (its "
        "charges may still be captured, canceled and refunded through it).",
    )
    simulated = ProcessorSimulatedSerializer(
        required=False,
        help_text="Only for a `simulated` processor: what is given changes, the rest stays.",
    )
    stripe = ProcessorStripeSerializer(
        required=False,
        help_text="Only for a `stripe` processor: a new `api_key` and/or `api_base`.",
    )
    metadata = MetadataField(
        help_text="Key-value pairs merged into the processor's metadata; an empty value "
        'removes a key, `metadata=""` removes them all.'
    )


class RoutingRetrieveSerializer(StrictSerializer):
    """Nothing but `expand` (accepted and ignored)."""


# --- input: payment flows ----------------------------------------------------------------------


class RoutingSplitSerializer(StrictSerializer):
    """One processor's share of a `volume_split` flow."""

    processor = processor_id_field(help_text="A processor (`proc_…`) taking a share.")
    percent = BoundedIntegerField(
        min_value=1,
        max_value=100,
        help_text="Its share of the payments, a whole percent, 1 to 100; the shares sum to 100.",
    )


class RoutingConditionSerializer(StrictSerializer):
    """The conditions of one rule: every one given must hold (at least one)."""

    currency = ArrayField(
        service_min_length=1,
        child=CurrencyField(),
        required=False,
        max_length=MAX_CONDITION_VALUES,
        help_text="The payment's currency is one of these (lower-case ISO codes).",
    )
    amount_gte = BoundedIntegerField(
        required=False,
        min_value=0,
        max_value=MAX_AMOUNT,
        help_text="The amount (smallest currency unit) is at least this.",
    )
    amount_lt = BoundedIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_AMOUNT,
        help_text="The amount (smallest currency unit) is less than this (greater than "
        "`amount_gte` when both are given).",
    )
    card_brand = ArrayField(
        service_min_length=1,
        child=card_brand_field(),
        required=False,
        max_length=len(CARD_BRANDS),
        help_text="The card's brand is one of these: " + ", ".join(CARD_BRANDS) + ".",
    )
    card_country = ArrayField(
        service_min_length=1,
        child=CountryAlpha2Field(),
        required=False,
        max_length=MAX_CONDITION_VALUES,
        help_text="The card's issuing country is one of these (ISO 3166-1 alpha-2, e.g. `US`).",
    )
    metadata = MetadataConditionField(
        required=False,
        help_text="The payment's metadata has each of these keys with exactly this value.",
    )

    def validate(self, attrs):
        for name in ("currency", "card_brand", "card_country"):
            if name in attrs:
                if not attrs[name]:
                    raise serializers.ValidationError(
                        {
                            name: _error(
                                f"Invalid {name}: name at least one.", "parameter_invalid_empty"
                            )
                        }
                    )
                attrs[name] = list(dict.fromkeys(attrs[name]))
        if "metadata" in attrs and not attrs["metadata"]:
            raise serializers.ValidationError(
                {
                    "metadata": _error(
                        "Invalid metadata: name at least one key.", "parameter_invalid_empty"
                    )
                }
            )
        gte, lt = attrs.get("amount_gte"), attrs.get("amount_lt")
        if gte is not None and lt is not None and gte >= lt:
            raise serializers.ValidationError(
                {
                    "amount_lt": _error(
                        "Invalid amount_lt: it must be greater than amount_gte.",
                        "parameter_invalid_integer",
                    )
                }
            )
        if not attrs:
            raise serializers.ValidationError(
                _error(
                    "A rule needs at least one condition: currency, amount_gte, amount_lt, "
                    "card_brand, card_country or metadata.",
                    "parameter_missing",
                )
            )
        return attrs


# at least one condition (`validate`): the component's `minProperties` (api.schema)
set_override(
    RoutingConditionSerializer,
    "extensions",
    {**get_override(RoutingConditionSerializer, "extensions", {}), MIN_PROPERTIES: 1},
)


class RoutingTargetSerializer(StrictSerializer):
    """The processors to try, best first."""

    processors = ProcessorIdListField(
        service_min_length=1,
        help_text="The processors to try, best first (each once, at least one).",
    )

    def validate_processors(self, value):
        if not value:
            raise serializers.ValidationError(
                "Missing required param: processors.", code="required"
            )
        return value


class RoutingRuleSerializer(StrictSerializer):
    """One rule of a `rules` flow: when (`if`) and where to (`then`)."""

    # `if` (a Python keyword) and `then` are added by `trailing_fields`, in that order.

    @classmethod
    def trailing_fields(cls) -> dict:
        return {
            "if": RoutingConditionSerializer(
                help_text="When the rule matches: every condition given must hold."
            ),
            "then": RoutingTargetSerializer(
                help_text="What a payment the rule matches is routed to."
            ),
        }


class RoutingSerializer(StrictSerializer):
    """How a payment flow chooses among the processors: `type` and that type's parameters."""

    # what `validate` holds each type to: its own parameters required (those with defaults
    # aside), every other type's refused
    required_with = {
        f"type={kind}": tuple(name for name in names if name not in ROUTING_OPTIONAL)
        for kind, names in ROUTING_PARAMS.items()
    }
    excluded_with = {
        f"type={kind}": tuple(name for name in _ROUTING_ANY if name not in names)
        for kind, names in ROUTING_PARAMS.items()
    }

    type = EnumField(
        choices=RoutingType.values,
        help_text="`priority` (the processors in order), `volume_split` (shares of the "
        "traffic), `rules` (the first matching rule's processors, else the default) or "
        "`success_rate` (the best recent success rate first, the others explored).",
    )
    processors = ProcessorIdListField(
        required=False,
        service_min_length=1,
        help_text="`priority` and `success_rate`: the processors, best first (at least one, "
        f"at most {MAX_PROCESSORS}, each once).",
    )
    split = ArrayField(
        child=RoutingSplitSerializer(),
        required=False,
        max_length=MAX_PROCESSORS,
        unique_by="processor",  # (`_split`)
        items_sum={"percent": 100},  # (`_split`)
        help_text="`volume_split`: each processor (each once) and its whole percent of the "
        "payments; the percents sum to 100. The others follow the drawn one, largest share "
        "first, for retries.",
    )
    rules = ArrayField(
        child=RoutingRuleSerializer(),
        required=False,
        max_length=MAX_RULES,
        help_text=f"`rules`: up to {MAX_RULES} rules, in order; the first whose conditions "
        "all hold decides.",
    )
    default = RoutingTargetSerializer(
        required=False,
        help_text="`rules` (required): the processors when no rule matches.",
    )
    window = BoundedIntegerField(
        required=False,
        min_value=10,
        max_value=1000,
        help_text=f"`success_rate`: how many of each processor's last attempts its rate is "
        f"computed over, 10 to 1000 (default {DEFAULT_WINDOW}).",
    )
    exploration_percent = BoundedIntegerField(
        required=False,
        min_value=0,
        max_value=50,
        help_text="`success_rate`: the share of payments (0 to 50 percent, default "
        f"{DEFAULT_EXPLORATION}) sent first to another processor than the best, so their "
        "rates keep being learnt.",
    )

    def validate(self, attrs):
        kind = attrs["type"]
        allowed = ROUTING_PARAMS[kind]
        for name in _ROUTING_ANY:
            if name in attrs and name not in allowed:
                raise serializers.ValidationError(
                    {
                        name: _error(
                            f"Received unknown parameter: routing[{name}] (not used by "
                            f"routing[type]={kind}).",
                            "parameter_unknown",
                        )
                    }
                )
        for name in allowed:
            if name in ROUTING_OPTIONAL:
                continue
            if not attrs.get(name):
                raise serializers.ValidationError(
                    {name: _error(f"Missing required param: routing[{name}].", "required")}
                )
        if kind == RoutingType.VOLUME_SPLIT:
            return {"type": kind, "split": self._split(attrs["split"])}
        if kind == RoutingType.RULES:
            return {"type": kind, "rules": attrs["rules"], "default": attrs["default"]}
        if kind == RoutingType.SUCCESS_RATE:
            return {
                "type": kind,
                "processors": attrs["processors"],
                "window": attrs.get("window", DEFAULT_WINDOW),
                "exploration_percent": attrs.get("exploration_percent", DEFAULT_EXPLORATION),
            }
        return {"type": kind, "processors": attrs["processors"]}

    @staticmethod
    def _split(split: list[dict]) -> list[dict]:
        seen: set[str] = set()
        for index, item in enumerate(split):
            if item["processor"] in seen:
                raise serializers.ValidationError(
                    {
                        "split": {
                            str(index): {
                                "processor": _error(
                                    f"Invalid processor: {item['processor']} has two shares; "
                                    "each processor appears once.",
                                    "parameter_invalid_string",
                                )
                            }
                        }
                    }
                )
            seen.add(item["processor"])
        total = sum(item["percent"] for item in split)
        if total != 100:
            raise serializers.ValidationError(
                {
                    "split": _error(
                        f"Invalid split: the percents sum to {total}; they must sum to 100.",
                        "parameter_invalid_integer",
                    )
                }
            )
        return [{"processor": item["processor"], "percent": item["percent"]} for item in split]


class PaymentFlowRetrySerializer(StrictSerializer):
    """Whether a failed attempt goes on to the next processor within one confirm."""

    max_attempts = BoundedIntegerField(
        required=False,
        min_value=1,
        max_value=5,
        help_text="Attempts on distinct processors within one confirm, 1 to 5 (default 1: no "
        "retry).",
    )
    on = ArrayField(
        child=NamedEnumField(choices=RETRY_ON, label_in_error="retry condition"),
        required=False,
        lenient=True,
        max_length=len(RETRY_ON),
        service_min_length=1,
        help_text="What failure goes on to the next processor: `soft_decline` (a decline "
        "worth retrying elsewhere, such as `try_again_later` or `processing_error`) and/or "
        "`processor_error` (the processor did not answer). Default both.",
    )

    def validate_on(self, value):
        if not value:
            raise serializers.ValidationError(
                "Invalid on: name at least one (for no retry, use retry[max_attempts]=1).",
                code="parameter_invalid_empty",
            )
        return list(dict.fromkeys(value))


class PaymentFlowCreateSerializer(StrictSerializer):
    """A new payment flow."""

    name = StringField(
        allow_null=False, max_length=100, help_text="Your label for the flow (≤ 100)."
    )
    routing = RoutingSerializer(
        help_text="How a payment chooses among your processors: `routing[type]` and the "
        "parameters of that type."
    )
    retry = PaymentFlowRetrySerializer(
        required=False,
        help_text="Whether a failed attempt goes on to the next processor within the same "
        "confirm (default: no retry).",
    )
    default = StrictBooleanField(
        required=False,
        help_text="`true`: the flow of every payment that names none (the previous default "
        "flow stops being it).",
    )
    metadata = MetadataField(
        help_text="Up to 50 key-value pairs of your own (keys ≤ 40 characters, values ≤ 500)."
    )


class PaymentFlowUpdateSerializer(StrictSerializer):
    """The changes to a payment flow (what is not given stays)."""

    name = StringField(
        required=False,
        allow_null=False,
        max_length=100,
        help_text="Your label for the flow (≤ 100).",
    )
    routing = RoutingSerializer(
        required=False,
        help_text="The whole routing, replacing the current one (`routing[type]` and the "
        "parameters of that type).",
    )
    retry = PaymentFlowRetrySerializer(
        required=False,
        help_text="What is given changes (`max_attempts`, `on`); the rest stays.",
    )
    default = StrictBooleanField(
        required=False,
        help_text="`true` makes it the default flow (the previous one stops being it); "
        "`false` leaves the account without a default flow if it was it.",
    )
    metadata = MetadataField(
        help_text="Key-value pairs merged into the flow's metadata; an empty value removes a "
        'key, `metadata=""` removes them all.'
    )


# --- output (documentation of the shapes in routing.presenters) --------------------------------


class ProcessorSimulatedSchema(serializers.Serializer):
    behavior = serializers.ChoiceField(
        choices=Behavior.values, help_text="How the simulator answers."
    )
    decline_code = serializers.CharField(help_text="The decline code of `behavior=decline`.")
    latency_ms = serializers.IntegerField(help_text="Milliseconds added to every call.")


class ProcessorStripeSchema(serializers.Serializer):
    api_base = serializers.CharField(help_text="The upstream's base URL.")
    api_key_last4 = serializers.CharField(
        help_text="The last four characters of the API key (the key itself is never shown)."
    )


class ProcessorSchema(serializers.Serializer):
    id = serializers.CharField(help_text="Unique identifier, `proc_…`.")
    object = serializers.ChoiceField(choices=["processor"], help_text="`processor`.")
    kind = serializers.ChoiceField(
        choices=ConnectionKind.values, help_text="`simulated` or `stripe`."
    )
    name = serializers.CharField(help_text="Your label for the processor.")
    livemode = serializers.BooleanField(help_text="Live mode (true) or test mode (false).")
    created = serializers.IntegerField(help_text="Time of creation, unix seconds.")
    status = serializers.ChoiceField(
        choices=ConnectionStatus.values,
        help_text="`active`, or `disabled` (never chosen for a payment).",
    )
    circuit = serializers.ChoiceField(
        choices=Circuit.values,
        help_text="`open` after repeated processor errors: skipped until a trial call "
        "succeeds after the cool-down; else `closed`.",
    )
    simulated = ProcessorSimulatedSchema(
        allow_null=True, help_text="The simulator's settings; null for a `stripe` processor."
    )
    stripe = ProcessorStripeSchema(
        allow_null=True, help_text="The upstream's address and key; null for a simulated one."
    )
    metadata = serializers.DictField(
        child=serializers.CharField(), help_text="Your key-value pairs."
    )


ProcessorListSchema = list_schema("ProcessorList", ProcessorSchema)


class ProcessorDeletedSchema(serializers.Serializer):
    id = serializers.CharField(help_text="The id of the deleted processor.")
    object = serializers.ChoiceField(choices=["processor"], help_text="`processor`.")
    deleted = serializers.BooleanField(help_text="Always true.")


class RoutingSplitSchema(serializers.Serializer):
    processor = serializers.CharField(help_text="A processor (`proc_…`).")
    percent = serializers.IntegerField(help_text="Its share of the payments, in percent.")


class RoutingConditionSchema(serializers.Serializer):
    currency = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="One of these currencies."
    )
    amount_gte = serializers.IntegerField(required=False, help_text="An amount at least this.")
    amount_lt = serializers.IntegerField(required=False, help_text="An amount less than this.")
    card_brand = serializers.ListField(
        child=serializers.ChoiceField(choices=CARD_BRANDS),
        required=False,
        help_text="One of these card brands.",
    )
    card_country = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="One of these card countries (alpha-2).",
    )
    metadata = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="Metadata keys with the value each must equal.",
    )


class RoutingTargetSchema(serializers.Serializer):
    processors = serializers.ListField(
        child=serializers.CharField(), help_text="The processors, best first."
    )


RoutingRuleSchema = type(
    "RoutingRuleSchema",
    (serializers.Serializer,),
    {
        "__module__": __name__,
        "__doc__": "One rule: its conditions and its processors.",
        "if": RoutingConditionSchema(help_text="Every condition given must hold."),
        "then": RoutingTargetSchema(help_text="The processors when the rule matches."),
    },
)


class PaymentFlowRoutingSchema(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=RoutingType.values,
        help_text="`priority`, `volume_split`, `rules` or `success_rate`; the fields below "
        "that the type uses are present.",
    )
    processors = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="`priority` and `success_rate`: the processors, best first.",
    )
    split = RoutingSplitSchema(
        many=True, required=False, help_text="`volume_split`: the shares, summing to 100."
    )
    rules = RoutingRuleSchema(
        many=True, required=False, help_text="`rules`: the rules, the first match wins."
    )
    default = RoutingTargetSchema(
        required=False, help_text="`rules`: the processors when no rule matches."
    )
    window = serializers.IntegerField(
        required=False, help_text="`success_rate`: the attempts each rate is computed over."
    )
    exploration_percent = serializers.IntegerField(
        required=False,
        help_text="`success_rate`: the percent of payments sent to another processor first.",
    )


class PaymentFlowRetrySchema(serializers.Serializer):
    max_attempts = serializers.IntegerField(
        help_text="Attempts on distinct processors within one confirm (1: no retry)."
    )
    on = serializers.ListField(
        child=serializers.ChoiceField(choices=RETRY_ON),
        help_text="The failures that go on to the next processor.",
    )


class PaymentFlowSchema(serializers.Serializer):
    id = serializers.CharField(help_text="Unique identifier, `flow_…`.")
    object = serializers.ChoiceField(choices=["payment_flow"], help_text="`payment_flow`.")
    name = serializers.CharField(help_text="Your label for the flow.")
    routing = PaymentFlowRoutingSchema(help_text="How a payment chooses among the processors.")
    retry = PaymentFlowRetrySchema(help_text="Whether a failed attempt is retried elsewhere.")
    version = serializers.IntegerField(
        help_text="1 when created, one more on every update that changes the flow (each "
        "charge records the version it ran)."
    )
    default = serializers.BooleanField(
        help_text="The flow of payments that name none (at most one flow per account and mode)."
    )
    livemode = serializers.BooleanField(help_text="Live mode (true) or test mode (false).")
    created = serializers.IntegerField(help_text="Time of creation, unix seconds.")
    metadata = serializers.DictField(
        child=serializers.CharField(), help_text="Your key-value pairs."
    )


PaymentFlowListSchema = list_schema("PaymentFlowList", PaymentFlowSchema)


class PaymentFlowDeletedSchema(serializers.Serializer):
    id = serializers.CharField(help_text="The id of the deleted flow.")
    object = serializers.ChoiceField(choices=["payment_flow"], help_text="`payment_flow`.")
    deleted = serializers.BooleanField(help_text="Always true.")
