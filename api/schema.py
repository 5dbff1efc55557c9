"""How the API describes itself in OpenAPI (drf-spectacular).

An operation is documented where it is written: the view's `extend_schema(summary=...,
description=..., parameters=[path_id(...)], responses={200: ..., 402: CARD_DECLINED},
examples=[...])`, and every input field's `help_text` in its serializer. The postprocessing hooks
below then add what every operation shares, so no view repeats it:

- `add_error_responses`: the error envelope for every status the HTTP layer itself can answer
  (400, 401, 403, 404, 429, 500; on POST also 409, 413, 415), the `Request-Id` header, the
  `Idempotency-Key` header on POSTs, and Bearer-or-Basic security;
- `publish_request_bodies`: the form-encoded body first (the Stripe dialect, with bracket
  notation), JSON as an alternative under its own schema so generated clients send what they
  label;
- `add_links`: OpenAPI links from each create to the operations on the created object;
- `plain_metadata`: every `metadata` property as string values under any key, with no `type`
  keyword, so generated clients take and give a plain dict (`currency` is a plain string too,
  `serializers.CurrencyField`), as Stripe's own schema makes them.
"""

from __future__ import annotations

import re

from django.conf import settings
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from core.money import (
    FALLBACK_MINIMUM_AMOUNT,
    MAX_AMOUNT,
    SUPPORTED_CURRENCIES,
    currency_exponent,
    minimum_amount,
)

from .idempotency import MAX_KEY_LENGTH
from .serializers import MIN_PROPERTIES, PARAMETER_RULE_EXTENSIONS, PLAIN_METADATA

ERROR_SCHEMA = {
    "type": "object",
    "description": "The error envelope every failed request answers with.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "type": {
                    "type": "string",
                    "enum": [
                        "api_error",
                        "card_error",
                        "idempotency_error",
                        "invalid_request_error",
                        "rate_limit_error",
                    ],
                    "description": "The kind of error.",
                },
                "code": {
                    "type": "string",
                    "description": "A short string for the error, e.g. `card_declined` or "
                    "`parameter_missing`.",
                },
                "message": {"type": "string", "description": "A human-readable message."},
                "param": {
                    "type": "string",
                    "nullable": True,
                    "description": "The parameter the error is about, in bracket notation.",
                },
                "decline_code": {
                    "type": "string",
                    "nullable": True,
                    "description": "For card errors: why the card was declined.",
                },
                "request_log_url": {"type": "string", "nullable": True},
                "payment_intent": {
                    "type": "object",
                    "nullable": True,
                    "description": "For errors about a payment intent (a decline): the intent "
                    "as it now is.",
                },
                "setup_intent": {
                    "type": "object",
                    "description": "Only on a SetupIntent's decline: the SetupIntent as it now "
                    "is (`last_setup_error` set).",
                },
            },
            "required": ["type", "message"],
        }
    },
    "required": ["error"],
}

_ERROR_REF = {"$ref": "#/components/schemas/Error"}

_DESCRIPTIONS = {
    "400": "Invalid request: a missing, invalid or unknown parameter, an object in the wrong "
    "state, or an Idempotency-Key reused with other parameters. Nothing was changed.",
    "401": "No API key, a malformed key, or an unknown or revoked key.",
    "402": "The card was declined (`error.type` is `card_error`, `error.decline_code` says why); "
    "for a payment intent the intent is embedded in `error.payment_intent`, for a SetupIntent in "
    "`error.setup_intent`.",
    "403": "A publishable key on an operation that needs the secret key.",
    "404": "No such object in this account and mode: the id in the path, or an object a "
    "parameter names (a customer, a payment method, a list cursor).",
    "409": "A request with the same Idempotency-Key is still being executed; retry later.",
    "413": "The request body is too large.",
    "415": "Unsupported content type: send application/x-www-form-urlencoded or application/json.",
    "429": "Too many requests for this key; retry after the Retry-After header's seconds.",
    "500": "Something went wrong on our side; the request id identifies it in the logs.",
}

_STATUSES = {
    "get": ("400", "401", "403", "404", "429", "500"),
    "delete": ("400", "401", "403", "404", "429", "500"),
    "post": ("400", "401", "403", "404", "409", "413", "415", "429", "500"),
    "put": ("400", "401", "403", "404", "409", "413", "415", "429", "500"),
}

#: The 402 of an operation that can decline a card: `responses={..., 402: CARD_DECLINED}`.
CARD_DECLINED = OpenApiResponse(response=ERROR_SCHEMA, description=_DESCRIPTIONS["402"])

IDEMPOTENCY_KEY_HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "description": "Makes the POST safe to retry: a retry with the same key and the same "
    "parameters within 24 hours answers the first result again instead of repeating it (409 "
    "while the first is still running; 400 if the parameters differ).",
}


def path_id(noun: str, prefix: str) -> OpenApiParameter:
    """The `{id}` of a route on one object, described."""
    return OpenApiParameter(
        "id",
        str,
        OpenApiParameter.PATH,
        description=f"The id of the {noun} (`{prefix}…`).",
    )


def search_query_parameter(
    *, format_name: str, fields: dict[str, str], max_length: int, example: str
) -> OpenApiParameter:
    """The `query` of a search operation: a string in the search language, which the API
    reference defines under Formats (a grammar no JSON schema keyword carries), named by
    `format_name`, over the fields the parameter lists in `x-search-fields` (each with the kind
    of value it compares: `integer`, `timestamp`, `string`, `metadata`), for a reader in its
    description and for a tool (the fuzz tests generate queries from it)."""
    named = ", ".join(
        "`metadata['key']`" if kind == "metadata" else f"`{field}` ({kind})"
        for field, kind in fields.items()
    )
    return OpenApiParameter(
        "query",
        {"type": "string", "format": format_name, "minLength": 1, "maxLength": max_length},
        OpenApiParameter.QUERY,
        required=True,
        description=f"A query in the search language (format `{format_name}`, see Formats in "
        f"the introduction) over {named}, e.g. {example}.",
        extensions={"x-search-fields": fields},
    )


def _operations(result):
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            if method in _STATUSES:
                yield path, method, operation


def add_error_responses(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    for path, method, operation in _operations(result):
        if not path.startswith("/v1/"):
            continue
        # Bearer OR Basic (drf-spectacular lists a multi-scheme extension as AND).
        operation["security"] = _either_scheme(operation)
        if method == "post":
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == "Idempotency-Key" for p in parameters):
                parameters.append(dict(IDEMPOTENCY_KEY_HEADER))
        _document_errors(operation, method, _ERROR_REF)
        headers = {
            "Request-Id": {
                "schema": {"type": "string"},
                "description": "req_… for this request",
            }
        }
        for response in operation["responses"].values():
            response.setdefault("headers", {}).update(headers)
    return result


def _either_scheme(operation: dict) -> list[dict]:
    """The operation's security requirements, each scheme a requirement of its own (OR)."""
    return [
        {name: scopes}
        for requirement in operation.get("security", [])
        for name, scopes in requirement.items()
    ]


def _document_errors(operation: dict, method: str, error_ref: dict) -> None:
    """Every status the HTTP layer itself can answer `method` with, as `error_ref`'s body."""
    responses = operation.setdefault("responses", {})
    for status, response in responses.items():
        # A view's own error response (e.g. CARD_DECLINED) points at the one component.
        if status[0] in "45":
            response["content"] = {"application/json": {"schema": error_ref}}
    for status in _STATUSES[method]:
        responses.setdefault(
            status,
            {
                "description": _DESCRIPTIONS[status],
                "content": {"application/json": {"schema": error_ref}},
            },
        )
    operation["responses"] = dict(sorted(responses.items()))


def document_face_errors(result: dict, *, prefix: str, name: str, schema: dict) -> dict:
    """A face's error body (its own shape, component `name`) on every status its operations
    under `prefix` can answer: the same statuses as `/v1/`, since every face's errors come
    from the one translation (`api.errors.translate`); and the Idempotency-Key its writes
    take, as every view of the shared HTTP dialect does."""
    result.setdefault("components", {}).setdefault("schemas", {})[name] = schema
    for path, method, operation in _operations(result):
        if not path.startswith(prefix):
            continue
        # Bearer OR Basic, as on `/v1/` (the same `KeyAuthentication`): drf-spectacular lists a
        # multi-scheme extension as AND, which asks a client for two Authorization headers.
        operation["security"] = _either_scheme(operation)
        if method == "post":
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == "Idempotency-Key" for p in parameters):
                parameters.append(dict(IDEMPOTENCY_KEY_HEADER))
        _document_errors(operation, method, {"$ref": f"#/components/schemas/{name}"})
    return result


_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _is_hash(schema: dict, components: dict) -> bool:
    schema = _resolve(schema, components)
    if schema.get("type") == "object" or "properties" in schema or "additionalProperties" in schema:
        return True
    alternatives = schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", [])
    return any(_is_hash(s, components) for s in alternatives)


def _is_array(schema: dict, components: dict) -> bool:
    schema = _resolve(schema, components)
    if schema.get("type") == "array":
        return True
    alternatives = schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", [])
    return any(_is_array(s, components) for s in alternatives)


def each_object(node):
    """Every object (dict) of a JSON document, depth first, each before what it holds: the
    caller may change an object it is given before its members are walked."""
    if isinstance(node, dict):
        yield node
        for value in list(node.values()):
            yield from each_object(value)
    elif isinstance(node, list):
        for value in node:
            yield from each_object(value)


def plain_metadata(result, generator, request, public):
    """Every `metadata` property, of a request or an answer, as `serializers.PLAIN_METADATA`:
    string values under any key, which the generated clients take and give as a plain dict
    (its description and nullability kept)."""

    for node in each_object(result):
        properties = node.get("properties")
        if isinstance(properties, dict) and isinstance(properties.get("metadata"), dict):
            old = properties["metadata"]
            kept = {k: old[k] for k in ("description", "nullable", "readOnly") if k in old}
            # a request's `MetadataField` states its rules (`serializers.REQUEST_METADATA`)
            plain = old if "x-property-names" in old else PLAIN_METADATA
            properties["metadata"] = {**plain, **kept}
    return result


#: On a request body: it is required, which `required: true` would say, but for a generated client
#: (openapi-python-client) that mishandles a required body of scalars only (`publish_request_bodies`);
#: the fuzz tests honour it (tests/fuzz_rules/payload.py).
BODY_REQUIRED = "x-body-required"


def publish_request_bodies(result, generator, request, public):
    """Every request body: form-encoded first, JSON second.

    The form body says how hashes and arrays are written: OpenAPI's deepObject style, an
    array's items keyed by their index (`metadata[order]=42`, `payment_method_types[0]=card`,
    `line_items[0][price]=price_…`), as Stripe's own document writes them. Without it a client
    following the document would repeat `payment_method_types=card&…` (form style, the default),
    which the API refuses as a parameter given twice. (`name[]=` for each item is read too.)
    Its schema is the JSON body's schema with
    one more (empty) constraint, so the two are distinct types: a client generated from this
    document (openapi-python-client) then has one class per content type and sends exactly the
    content type of the class it was given.
    """
    components = result.get("components", {}).get("schemas", {})
    for _path, _method, operation in _operations(result):
        body = operation.get("requestBody")
        if not body:
            continue
        content = body.get("content", {})
        schema = (content.get(_JSON) or content.get(_FORM) or {}).get("schema")
        if schema is None:
            continue
        if _FORM not in content:
            # (a view that parses JSON only, as PayMongo's face does)
            _close_objects(schema, components, set())
            continue
        properties = _resolve(schema, components).get("properties", {})
        encoding = {
            name: {"style": "deepObject", "explode": True}
            for name, prop in properties.items()
            if _is_hash(prop, components) or _is_array(prop, components)
        }
        form = {**content.get(_FORM, {}), "schema": {"allOf": [schema, {"type": "object"}]}}
        if encoding:
            form["encoding"] = encoding
        elif not any(not p.get("required") for p in operation.get("parameters", [])):
            # A required body of scalars only, offered as form and JSON, makes openapi-python-client
            # write a module that names `Unset` without importing it, unless an optional
            # parameter (every POST's Idempotency-Key) has it imported. The body's own schema still
            # says which fields are required, and a request without them is a 400 either way; that
            # the body itself is required is said beside it, for tools, and in words.
            if body.pop("required", None):
                body[BODY_REQUIRED] = True
                operation["description"] = (
                    operation.get("description", "").rstrip()
                    + "\n\nThe request has a body (`requestBody` has `x-body-required`)."
                ).lstrip()
        others = {k: v for k, v in content.items() if k not in (_FORM, _JSON)}
        # The API refuses a parameter it does not know (400 `parameter_unknown`), at any depth:
        # the body says so.
        _close_objects(schema, components, set())
        json_media = {**content.get(_JSON, {}), "schema": schema}
        body["content"] = {_FORM: form, _JSON: json_media, **others}
    return result


def _close_objects(schema: dict, components: dict, seen: set) -> None:
    """`additionalProperties: false` on every object of a request body with named properties
    (a hash of free keys, as `metadata`, has none and stays open)."""
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return
        seen.add(schema["$ref"])
        _close_objects(_resolve(schema, components), components, seen)
        return
    if schema.get("properties") and "additionalProperties" not in schema:
        schema["additionalProperties"] = False
    for child in (schema.get("properties") or {}).values():
        _close_objects(child, components, seen)
    for keyword in ("anyOf", "oneOf", "allOf"):
        for child in schema.get(keyword, []):
            _close_objects(child, components, seen)
    if isinstance(schema.get("items"), dict):
        _close_objects(schema["items"], components, seen)


def name_query_arrays(result, generator, request, public):
    """An array in a query string is sent as the API reads one, `expand[]=a&expand[]=b`: the
    parameter is named `expand[]` (form style, exploded). Named `expand`, a client following
    the document would repeat `expand=a&expand=b`, which the API refuses as a parameter given
    twice. A hash (`created`) is written in brackets: deepObject style."""
    components = result.get("components", {}).get("schemas", {})
    for _path, _method, operation in _operations(result):
        for parameter in operation.get("parameters", []):
            if (
                parameter.get("in") == "query"
                and parameter.get("schema", {}).get("type") == "array"
                and not parameter["name"].endswith("[]")
            ):
                parameter["name"] += "[]"
                parameter["style"] = "form"
                parameter["explode"] = True
            elif parameter.get("in") == "query" and _is_hash(
                parameter.get("schema", {}), components
            ):
                # a hash in a query string: `created[gte]=…` (form style would send `gte=…`)
                parameter["style"] = "deepObject"
                parameter["explode"] = True
    return result


def close_query_hashes(result, generator, request, public):
    """A hash in a query string (`created[gte]=…`) takes only its named keys, as a body's
    hashes do (`_close_objects`): the API refuses another (`created[x]`) as an unknown
    parameter."""
    components = result.get("components", {}).get("schemas", {})
    for _path, _method, operation in _operations(result):
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "query" and _is_hash(parameter.get("schema", {}), components):
                _close_objects(parameter["schema"], components, set())
    return result


#: Query parameters a request may give only one of (OpenAPI 3.0 has no way to say so): a list's
#: two cursors; the events list's one type and several (arrays are named `…[]` by then).
EXCLUSIVE_QUERY_PARAMETERS = (("starting_after", "ending_before"), ("type", "types[]"))


def state_exclusive_parameters(result, generator, request, public):
    """Each operation that takes parameters which exclude one another says so: in its
    description, for a reader, and as `x-mutually-exclusive-parameters` (lists of names), for a
    tool (the fuzz tests read it so that data they call valid gives one of each group)."""
    for _path, _method, operation in _operations(result):
        names = {parameter.get("name") for parameter in operation.get("parameters", [])}
        groups = [list(group) for group in EXCLUSIVE_QUERY_PARAMETERS if names.issuperset(group)]
        if not groups:
            continue
        operation["x-mutually-exclusive-parameters"] = groups
        said = "; ".join(" or ".join(f"`{name}`" for name in group) for group in groups)
        operation["description"] = (
            operation.get("description", "").rstrip() + f"\n\nGive at most one of {said}."
        ).lstrip()
    return result


def _body_rules(schema: dict, components: dict, at: str, seen: frozenset):
    """(path, schema) of every object schema in a request body that states rules between its
    parameters (`StrictSerializer.required_one_of` and the others), `at` its bracket path."""
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return
        seen = seen | {schema["$ref"]}
        schema = _resolve(schema, components)
    if any(name in schema for name in PARAMETER_RULE_EXTENSIONS):
        yield at, schema
    for keyword in ("anyOf", "oneOf", "allOf"):
        for child in schema.get(keyword, []):
            yield from _body_rules(child, components, at, seen)
    for name, child in (schema.get("properties") or {}).items():
        yield from _body_rules(child, components, f"{at}[{name}]" if at else name, seen)
    if isinstance(schema.get("items"), dict):
        yield from _body_rules(schema["items"], components, f"{at}[n]", seen)


def _said(names, joint: str = "or") -> str:
    named = [f"`{name}`" for name in names]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + f" {joint} " + named[-1]


def _when(key: str) -> str:
    name, _, value = key.partition("=")
    return f"`{name}` is `{value}`" if value else f"`{name}` is given"


def _required(names) -> str:
    """`x-required-with`'s names in words: `name` is required, `name=value` must have it."""
    valued = [name.partition("=") for name in names if "=" in name]
    words = [f"`{name}` must be `{value}`" for name, _, value in valued]
    plain = [name for name in names if "=" not in name]
    if plain:
        words.insert(
            0, f"{_said(plain, 'and')} " + ("is" if len(plain) == 1 else "are") + " required"
        )
    return " and ".join(words)


def _one_of(group) -> str:
    if not any("=" in key for key in group):
        return f"one of {_said(group)} is required"
    held = [_when(key) for key in group]
    return "one of these holds: " + ", ".join(held[:-1]) + " or " + held[-1]


def parameter_rules_in_words(schema: dict) -> list[str]:
    """The rules an object schema of a request body states as extensions, in words."""
    words = [_one_of(group) for group in schema.get("x-required-one-of", [])]
    words += [
        f"at most one of {_said(group)} may be given"
        for group in schema.get("x-mutually-exclusive-parameters", [])
    ]
    words += [
        f"once {_when(key)}, {_required(names)}"
        for key, names in schema.get("x-required-with", {}).items()
    ]
    words += [
        f"once {_when(key)}, {_said(names)} may not be given"
        for key, names in schema.get("x-excluded-with", {}).items()
    ]
    words += [
        f"`{amount}` is at least the minimum of the currency `{currency}` names (or its "
        "default) and at most 99999999, a multiple of 10 in a three-decimal currency "
        "(`x-currency-amounts`)"
        for amount, currency in schema.get("x-currency-parameters", {}).items()
    ]
    words += [
        f"once {_when(key)}, `{name}` is at least {least}"
        for key, minimums in schema.get("x-minimum-when", {}).items()
        for name, least in minimums.items()
    ]
    return words


def state_currency_amounts(result, generator, request, public):
    """The document states each currency's rules for amounts once, for the amounts marked
    `x-currency-parameters`: `info.x-currency-amounts` holds the largest amount, the least one
    in any currency not listed, each listed currency's least one, and the three-decimal
    currencies (whose amounts end in 0). All in the currency's smallest unit, as this
    deployment is configured."""
    currencies = sorted(SUPPORTED_CURRENCIES | set(settings.EXTRA_CURRENCIES))
    result.setdefault("info", {})["x-currency-amounts"] = {
        "maximum": MAX_AMOUNT,
        "default_minimum": FALLBACK_MINIMUM_AMOUNT,
        "minimums": {
            code: minimum_amount(code)
            for code in currencies
            if minimum_amount(code) != FALLBACK_MINIMUM_AMOUNT
        },
        "three_decimal": [code for code in currencies if currency_exponent(code) == 3],
    }
    return result


def state_parameter_rules(result, generator, request, public):
    """Each operation whose body has parameters that require or exclude one another (declared
    beside the serializer, `StrictSerializer.required_one_of` and the others, and stated on its
    component as `x-required-one-of`, `x-mutually-exclusive-parameters`, `x-required-with`,
    `x-excluded-with`) says so in its description too, in words: one line for the body's own
    parameters, one for each hash (`n` stands for an array item's index) that has such rules."""
    components = result.get("components", {}).get("schemas", {})
    for _path, _method, operation in _operations(result):
        content = operation.get("requestBody", {}).get("content", {})
        schema = (content.get(_JSON) or content.get(_FORM) or {}).get("schema")
        if schema is None:
            continue
        lines = {}
        for at, rules in _body_rules(schema, components, "", frozenset()):
            if not at and rules.get("x-required-one-of"):
                # a body without one of them is refused: there must be a body
                operation["requestBody"]["required"] = True
            words = parameter_rules_in_words(rules)
            if at:
                lines[f"- in `{at}`, when given: {'; '.join(words)}."] = None
            else:
                lines.update((f"- {word}.", None) for word in words)
        if not lines:
            continue
        operation["description"] = (
            operation.get("description", "").rstrip()
            + "\n\nParameters that depend on one another (stated for tools as extensions on "
            + "the body's schemas):\n"
            + "\n".join(lines)
        ).lstrip()
    return result


def bounds_say_the_width(result, generator, request, public):
    """An integer whose `minimum` and `maximum` the schema states within 64 bits carries no
    `format: int64` beside them: the bounds say all of it, and schemathesis reads the format as
    a constraint of its own whose "violations" it draws inside those bounds (a `created[lt]` of
    0 sent as breaking the schema)."""
    for node in each_object(result):
        if (
            node.get("type") == "integer"
            and node.get("format") == "int64"
            and -(2**63) <= node.get("minimum", -(2**64)) <= node.get("maximum", 2**64) < 2**63
        ):
            del node["format"]
    return result


def state_min_properties(result, generator, request, public):
    """A hash that takes at least so many parameters (`x-min-properties` on its component: a
    routing rule's conditions, at least one) says so as `minProperties`."""
    for node in each_object(result):
        if MIN_PROPERTIES in node:
            node["minProperties"] = node.pop(MIN_PROPERTIES)
    return result


# --- an empty value: the Stripe dialect's null ------------------------------------------------
#
# In the Stripe dialect an empty value is how a form body says null (`description=` unsets the
# description): the API reads `""` for an optional string (`serializers.StringField`, in a body
# or a query string) as null, so in a query string as if the parameter were left out. The
# API's description says it once; the document states it where it applies, in OpenAPI 3.0
# keywords: no `minLength: 1` on such a body property (`""` is valid, and `nullable` says
# what it means), `allowEmptyValue` on such a query parameter.

_EMPTY_IS_NULL = "x-empty-is-null"
#: A required StringField given null or `""` is a missing parameter: its schema is not nullable.
_NULL_IS_MISSING = "x-null-is-missing"


def empty_strings_are_null(result, generator, request, public):
    """A request body's optional string that reads `""` as null says `""` is valid (no
    `minLength: 1`, and a `pattern` that takes it); an optional string query parameter read the same way (`""` is not given)
    says so with `allowEmptyValue`; a required one, for which null is missing, is not
    `nullable`."""

    for _path, _method, operation in _operations(result):
        for parameter in operation.get("parameters", []):
            if (
                parameter.get("in") == "query"
                and not parameter.get("required")
                and parameter.get("schema", {}).get(_EMPTY_IS_NULL)
            ):
                parameter["allowEmptyValue"] = True

    for node in each_object(result):
        if node.pop(_EMPTY_IS_NULL, False):
            if node.get("minLength") == 1:
                del node["minLength"]
            if "pattern" in node and not re.search(node["pattern"], ""):
                # (an optional URL's scheme: `""` is unset, which its pattern says too)
                node["pattern"] = "^$|" + node["pattern"]
        if node.pop(_NULL_IS_MISSING, False):
            node.pop("nullable", None)
    return result


#: What bracket notation cannot write (`a[]=` is an array's item, `a[b[c]]` no name at all): a
#: form body's hashes, at any depth, have keys that are not empty and hold no square bracket.
#: Such a key can be sent only in a JSON body. (OpenAPI 3.0 has no `propertyNames`.)
FORM_HASH_KEYS = {"type": "string", "minLength": 1, "pattern": r"^[^\[\]]*$"}


def state_form_hash_keys(result, generator, request, public):
    """Every form body says what keys bracket notation can write, as `x-form-hash-keys` on its
    media type (the API's description says it in prose), for a tool that generates bodies (the
    fuzz tests' form serializer honours it)."""
    for _path, _method, operation in _operations(result):
        form = operation.get("requestBody", {}).get("content", {}).get(_FORM)
        if form is not None:
            form["x-form-hash-keys"] = dict(FORM_HASH_KEYS)
    return result


_ID_ROUTE = re.compile(r"^(?P<collection>/v1/[a-z_]+)/\{id\}(?P<action>/[a-z_]+)?$")


def _link_name(operation_id: str) -> str:
    return operation_id[0].upper() + operation_id[1:]


def link_creates(result, *, route: re.Pattern, id_pointer: str, name=_link_name) -> dict:
    """A create (POST on a collection) links to every operation on the object it made (the
    paths `route` matches, its `collection` group the create's path), passing the new id where
    the answer holds it (`id_pointer`): what a stateful fuzzer or a reader follows."""
    paths = result.get("paths", {})
    targets: dict[str, list[str]] = {}
    for path, methods in paths.items():
        match = route.match(path)
        if not match:
            continue
        for method, operation in methods.items():
            if method in _STATUSES and operation.get("operationId"):
                targets.setdefault(match["collection"], []).append(operation["operationId"])
    for collection, operation_ids in targets.items():
        ok = paths.get(collection, {}).get("post", {}).get("responses", {}).get("200")
        if not ok:
            continue
        ok["links"] = {
            name(operation_id): {
                "operationId": operation_id,
                "parameters": {"id": id_pointer},
                "description": f"`{operation_id}` on the object just created.",
            }
            for operation_id in operation_ids
        }
    return result


def add_links(result, generator, request, public):
    """`/v1/`'s creates link to the operations on what they made, whose answers hold the new
    `id` at the top (`$response.body#/id`)."""
    return link_creates(result, route=_ID_ROUTE, id_pointer="$response.body#/id")


# --- fields ---------------------------------------------------------------------------------


class ListParamFieldSchema(OpenApiSerializerFieldExtension):
    """A `ListParamField` states the fewest items its service takes (`minItems`)."""

    target_class = "api.serializers.ListParamField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if self.target.service_min_length is not None:
            schema["minItems"] = self.target.service_min_length
        return schema


class StringFieldSchema(OpenApiSerializerFieldExtension):
    """A `StringField` states its kind's keywords (`field_schema`) and the pattern its value is
    checked against (`checked_pattern`); in a
    request, an optional one that reads `""` as null (it allows null and not blank) is marked
    for `empty_strings_are_null` to drop the `minLength: 1` drf-spectacular gives it (after any
    extension has run), and a required one, for which null is missing, is marked not nullable."""

    target_class = "api.serializers.StringField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        field = self.target
        # its kind's keywords, under the field's own description and nullability
        schema = {"type": "string", **field.field_schema, **schema}
        if field.checked_pattern is not None:
            schema["pattern"] = field.checked_pattern
        if direction == "request":
            if not field.required and field.allow_null and not field.allow_blank:
                schema[_EMPTY_IS_NULL] = True
            if field.required and field.allow_null:
                schema[_NULL_IS_MISSING] = True
        return schema


# --- authentication in the schema ----------------------------------------------------------


class KeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.KeyAuthentication"
    name = ["secretKey", "basicKey"]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "description": "Authorization: Bearer sk_test_… (or pk_test_… where a route allows it)",
            },
            {
                "type": "http",
                "scheme": "basic",
                "description": "HTTP Basic with the API key as the user name and an empty password",
            },
        ]
