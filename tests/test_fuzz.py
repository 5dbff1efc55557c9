"""Schemathesis 4 over every operation of docs/openapi.json, against the application in-process,
with every check it has (`--checks all`: server errors, status codes, content types, response
schemas and headers, negative data rejected, positive data accepted, use after free, resource
availability, ignored auth, unsupported methods) and with real ids: every `{id}` is, most of the
time, the id of a real object of the right kind made through the API first (an intent in each
state, a customer, a method, a charge, an event, an endpoint), so generated bodies reach the
services rather than stopping at a 404.

Each operation is fuzzed with data that fits the schema (positive) and data that does not
(negative); a stateful test then walks the schema's links (and the ones schemathesis infers)
from a created object to the operations that take its id. The budget is fixed and modest
(FUZZ_EXAMPLES cases per operation and mode, 4 by default); `make fuzz` runs the long one.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import zoneinfo
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from graphql import GraphQLError, OperationDefinitionNode, build_schema
from graphql import parse as parse_graphql
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from hypothesis_graphql import from_schema as graphql_documents
from hypothesis_graphql import nodes as graphql_nodes
from schemathesis import GenerationMode
from schemathesis.auths import apply_basic_auth
from schemathesis.checks import load_all_checks
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.jsonschema import make_validator
from schemathesis.core.parameters import ParameterLocation

import tests.fuzz_rules.checkout  # noqa: F401  (its hooks)
import tests.fuzz_rules.currency  # noqa: F401  (its hooks)
import tests.fuzz_rules.payload  # noqa: F401  (its hooks)
import tests.fuzz_rules.v1  # noqa: F401  (its hooks)
from api.idempotency import MAX_KEY_LENGTH as MAX_IDEMPOTENCY_KEY_LENGTH
from api.search_pagination import encode_page
from api.serializers import WEBHOOK_URL_FORMAT
from api.views import resource_name, scoped_models
from config.wsgi import application
from core.countries import ALPHA3, COUNTRY_ALPHA2
from core.money import SUPPORTED_CURRENCIES
from faces.paymongo.errors import REFUSED_FOR
from faces.paymongo.serializers import CARD_NUMBER_FORMAT, EXPIRY_YEAR
from faces.whenthen.openapi import GRAPHQL_FORMAT, OPERATION_NAME_OF
from faces.whenthen.views import sdl as whenthen_sdl
from payments.search import MAX_CREATED
from tests.conftest import committed_for_module, make_account
from tests.fuzz_rules import DOCUMENT, json_body_schema
from tests.fuzz_rules.paymongo import resource_model
from tests.helpers import encode_form_as_documented, form_text
from tests.security.world import build_world

pytestmark = pytest.mark.long(50)

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
STEPS = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", str(EXAMPLES)))

_FORM = "application/x-www-form-urlencoded"


@schemathesis.serializer(_FORM)
def form_as_documented(ctx, value):
    """A form body as the document's `encoding` writes it (`metadata[order]=42`,
    `payment_method_types[0]=card`: deepObject), as a generated client sends it. schemathesis'
    own form serializer ignores `encoding` and writes every property in form style
    (`metadata=order`, `payment_method_types=a&payment_method_types=b`)."""
    if isinstance(ctx.case.body, dict) and isinstance(value, dict):
        # schemathesis hands over the body with None and booleans already spelt as JSON text
        # (`"null"`, `"true"`); a client writes None as the dialect's empty value (`name=`)
        value = ctx.case.body
    if value is None or isinstance(value, bytes):
        return value
    if value == "":
        # the empty form, no pair at all: `{}` on the wire, whatever the schema says of a string
        reject()
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if not isinstance(value, dict):
        return json.dumps(value).encode()
    operation = ctx.case.operation
    described = DOCUMENT["paths"][operation.path][operation.method.lower()]
    encoding = described["requestBody"]["content"].get(_FORM, {}).get("encoding", {})
    keys = described["requestBody"]["content"].get(_FORM, {}).get("x-form-hash-keys")
    if _nested_in_form_style(value, encoding):
        # form style writes a primitive, or an array or object of primitives: `[["a"]]` has no
        # spelling there (our encoder wrote Python's `[['a']]`, a string the API rightly took)
        reject()
    if keys and not _writable_keys(value, keys):
        # a key the document says bracket notation cannot write: no form body carries it
        reject()
    if _only_the_body_is_negative(ctx.case) and _valid_as_text(ctx.case, value):
        # a form carries text: `false` or `5` given for a string is that string, no violation
        reject()
    pairs = encode_form_as_documented(value, encoding)
    return urlencode(
        [(k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass")) for k, v in pairs]
    ).encode()


def _nested_in_form_style(body: dict, encoding: dict) -> bool:
    """Whether a property written in form style (not deepObject) holds an array or object
    inside its array or object, which OpenAPI's form style cannot write, or is an empty object,
    which it writes as no pair at all (the property is not sent)."""
    for name, value in body.items():
        if encoding.get(name, {}).get("style") == "deepObject":
            continue
        if value == {}:
            return True
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list | tuple) and any(
            isinstance(item, list | tuple | dict) for item in value
        ):
            return True
    return False


def _only_the_body_is_negative(case) -> bool:
    meta = case.meta
    if meta is None or not meta.is_negative_at(ParameterLocation.BODY):
        return False
    others = (ParameterLocation.QUERY, ParameterLocation.PATH, ParameterLocation.HEADER)
    return not any(meta.is_negative_at(location) for location in others)


def _leaves(value, path=()):
    if isinstance(value, dict):
        if not value and path:
            yield path, value  # an empty hash inside a body: a form writes it `name=`
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def _what_a_form_carries(value):
    """What a form carries of a body: an empty array writes no pair at all (`encode_form`)."""
    if isinstance(value, dict):
        return {k: _what_a_form_carries(v) for k, v in value.items() if v != []}
    if isinstance(value, list):
        return [_what_a_form_carries(item) for item in value]
    return value


def _valid_as_text(case, body: dict) -> bool:
    """Whether a form body fits its schema once every value is the text a form carries (the
    API's description: `true`, `false` or a number given for a string is that string; an empty
    array is no pair at all): each boolean, number or null is read as its text wherever that
    leaves fewer violations."""
    alternative = case.operation.get_body_for_media_type(_FORM)
    if alternative is None:
        return False
    validator = make_validator(
        alternative.optimized_schema, case.operation.schema.adapter.jsonschema_validator_cls
    )
    instance = _what_a_form_carries(json.loads(json.dumps(body)))
    errors = sum(1 for _ in validator.iter_errors(instance))
    for path, leaf in list(_leaves(instance)):
        if errors == 0 or not path or isinstance(leaf, str):
            continue
        *parents, last = path
        container = instance
        for step in parents:
            container = container[step]
        # the text a form carries: an empty hash is the empty value (`metadata[k]=`, as the
        # API's description says), which the API reads as that hash
        container[last] = "" if leaf == {} else form_text(leaf)
        fewer = sum(1 for _ in validator.iter_errors(instance))
        if fewer < errors:
            errors = fewer
        else:
            container[last] = leaf
    return errors == 0


def _writable_keys(value, rule: dict) -> bool:
    """Every hash's keys in `value`, at any depth, fit the form's `x-form-hash-keys`."""
    if isinstance(value, dict):
        return all(
            _fits_key_rule(str(k), rule) and _writable_keys(v, rule) for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return all(_writable_keys(item, rule) for item in value)
    return True


@schemathesis.hook
def filter_query(ctx, query):
    """What the document states beside the schema (`x-mutually-exclusive-parameters`, which
    OpenAPI 3.0 cannot express as a schema): generated data gives at most one parameter of each
    group, as a client following the document would (giving two is no schema violation either,
    so the negative half loses nothing by it)."""
    if not isinstance(query, dict) or ctx.operation is None:
        return True
    if any(value == [] for value in query.values()):
        # an empty array writes no pair at all: the query sent is not the one generated
        return False
    groups = ctx.operation.definition.raw.get("x-mutually-exclusive-parameters", [])
    return not any(sum(name in query for name in group) > 1 for group in groups)


# --- The formats the API reference defines (api/openapi_description.md, "Formats"): what
# data called valid holds where the schema names one, drawn from the list or the grammar the
# reference states, as a client following the document writes it. (In negative mode
# schemathesis drops the format and takes any other string as invalid.)

_CURRENCIES = sorted(SUPPORTED_CURRENCIES)
#: `currency`: a supported ISO 4217 code, lowercase or uppercase.
schemathesis.openapi.format(
    "currency", st.sampled_from(_CURRENCIES) | st.sampled_from(_CURRENCIES).map(str.upper)
)

#: `country-alpha2`, `country-alpha3`: a code ISO 3166-1 has assigned (as core/countries.py
#: reads the list), upper case as the API writes it, or lower case.
for _format, _codes in (("country-alpha2", COUNTRY_ALPHA2), ("country-alpha3", ALPHA3)):
    schemathesis.openapi.format(
        _format, st.sampled_from(sorted(_codes)) | st.sampled_from(sorted(_codes)).map(str.lower)
    )

#: `time-zone`: an IANA time zone name.
schemathesis.openapi.format(
    "time-zone",
    st.sampled_from(sorted(zone for zone in zoneinfo.available_timezones() if len(zone) <= 64)),
)

#: Text in a search query's quoted values and metadata keys: any character but NUL (refused
#: anywhere, schemathesis.toml) and lone surrogates (no character at all).
_SEARCH_CHARACTERS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")


def _quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@st.composite
def _search_clause(draw, kinds: dict[str, str]) -> str:
    """One clause over the fields `x-search-fields` lists, by the kind of each."""
    field = draw(st.sampled_from(sorted(kinds)))
    kind = kinds[field]
    negated = "-" if draw(st.booleans()) else ""
    if kind in ("integer", "timestamp"):
        low, high = (0, MAX_CREATED) if kind == "timestamp" else (-(2**63 - 1), 2**63 - 1)
        operator = draw(st.sampled_from([":", ">", ">=", "<", "<="]))
        return f"{negated}{field}{operator}{draw(st.integers(low, high))}"
    if kind == "metadata":
        key = draw(
            st.text(_SEARCH_CHARACTERS.filter(lambda c: c not in "[]"), min_size=1, max_size=40)
        )
        field = f"metadata[{_quoted(key)}]"
    if draw(st.booleans()):
        value = draw(st.just("null") | st.text(_SEARCH_CHARACTERS, max_size=30).map(_quoted))
        return f"{negated}{field}:{value}"
    value = _quoted(draw(st.text(_SEARCH_CHARACTERS, min_size=3, max_size=30)))
    return f"{negated}{field}~{value}"


def search_queries(kinds: dict[str, str]) -> st.SearchStrategy[str]:
    """A query in the search language: 1 to 10 clauses joined by AND or by OR."""
    return st.tuples(
        st.sampled_from([" AND ", " OR "]), st.lists(_search_clause(kinds), min_size=1, max_size=10)
    ).map(lambda drawn: drawn[0].join(drawn[1]))


#: `search-page`: a `next_page` as a search answers it, naming a row (its `created`, its id).
schemathesis.openapi.format(
    "search-page",
    st.builds(
        lambda created, pk: encode_page(SimpleNamespace(created=created, id=pk)),
        st.datetimes(timezones=st.just(UTC)),
        st.from_regex(r"\A[a-z]{1,16}_[A-Za-z0-9]{1,60}\Z"),
    ),
)

#: Each search operation's query format, over the fields its `query` parameter lists.
for _methods in DOCUMENT["paths"].values():
    for _operation in _methods.values():
        for _parameter in _operation.get("parameters", []) if isinstance(_operation, dict) else []:
            if "x-search-fields" in _parameter:
                schemathesis.openapi.format(
                    _parameter["schema"]["format"], search_queries(_parameter["x-search-fields"])
                )


# --- Format `webhook-url` (api.serializers.WEBHOOK_URL_FORMAT) --------------------------------

_PUBLIC_IPV4 = st.ip_addresses(v=4).filter(lambda ip: ip.is_global and not ip.is_multicast)
_URL_PATH = st.lists(st.from_regex(r"[A-Za-z0-9._~-]{1,12}", fullmatch=True), max_size=4).map(
    lambda parts: "/" + "/".join(parts)
)
#: An http or https URL of a public host, written as its address (no name to resolve here).
schemathesis.openapi.format(
    WEBHOOK_URL_FORMAT,
    st.builds(
        "{}://{}{}".format, st.sampled_from(["http", "https"]), _PUBLIC_IPV4.map(str), _URL_PATH
    ),
)


# --- The faces' card fields (PayMongo's `details`) ------------------------------------------


def _luhn_completed(digits: str) -> str:
    """`digits` and the check digit that makes the whole pass the Luhn check."""
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return digits + str((10 - total % 10) % 10)


#: Format `card-number`: 12 to 19 digits that pass the Luhn check.
schemathesis.openapi.format(
    CARD_NUMBER_FORMAT,
    st.text("0123456789", min_size=11, max_size=18).map(_luhn_completed),
)


def _years_into_the_window(value, schema: dict, seen: frozenset = frozenset()):
    """`value` with every integer under a property marked `x-card-expiry-year` moved into the
    window a card's expiry year must be in (next year to 49 years on: this year's past months
    are out), keeping how the drawn years spread; anything else as it is."""
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return value
        seen = seen | {schema["$ref"]}
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if schema.get(EXPIRY_YEAR) and isinstance(value, int) and not isinstance(value, bool):
        return datetime.now(UTC).year + 1 + value % 49
    for child in schema.get("allOf", []):
        value = _years_into_the_window(value, child, seen)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        return {
            name: _years_into_the_window(item, properties[name], seen)
            if name in properties
            else item
            for name, item in value.items()
        }
    return value


@schemathesis.hook("map_body")
def map_body_card_expiry_year(ctx, body):
    """What the document states beside the schema (`x-card-expiry-year`, a window that moves
    with the date): a card's expiry year in data is one a card can have, as a client following
    the document sends (the year is no part of the schema a negative case breaks)."""
    schema = json_body_schema(ctx)
    return body if schema is None else _years_into_the_window(body, schema)


# --- WhenThen's GraphQL face: what its request body's fields say of one another -------------


def _graphql_documents():
    """Format `graphql` (a request's `query`): executable documents of the face's published
    schema (`/whenthen/schema.graphql`), built by hypothesis-graphql, so they parse and validate
    (no NUL in a string, as everywhere: schemathesis.toml)."""
    timestamps = st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
    )
    scalars = {
        "Long": st.integers().map(graphql_nodes.Int),
        "DateTime": timestamps.map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")).map(
            graphql_nodes.String
        ),
    }
    return graphql_documents(build_schema(whenthen_sdl()), custom_scalars=scalars, allow_x00=False)


schemathesis.openapi.format(GRAPHQL_FORMAT, _graphql_documents())


def _body_properties(operation) -> dict:
    """The properties of each of the operation's request body schemas, `$ref`s resolved."""
    found: dict = {}
    content = operation.definition.raw.get("requestBody", {}).get("content", {})
    for media in content.values():
        body = media.get("schema", {})
        if "$ref" in body:
            body = DOCUMENT["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
        found.update(body.get("properties", {}))
    return found


def _operation_names(document: object) -> set[str] | None:
    """The names of a GraphQL document's operations; None when it is no document at all."""
    if not isinstance(document, str):
        return None
    try:
        parsed = parse_graphql(document)
    except GraphQLError:
        return None
    return {
        definition.name.value
        for definition in parsed.definitions
        if isinstance(definition, OperationDefinitionNode) and definition.name is not None
    }


@schemathesis.hook("filter_body")
def filter_body_graphql_operation_name(ctx, body):
    """What the document states beside the schema (`x-graphql-operation-name-of`, a rule between
    two fields that OpenAPI 3.0 cannot express): an `operationName` given as a string names an
    operation of the GraphQL document beside it, as a client following the document would send
    (where that document does not parse, the rule says nothing and the body is kept)."""
    if not isinstance(body, dict) or ctx.operation is None:
        return True
    for name, described in _body_properties(ctx.operation).items():
        document_field = described.get(OPERATION_NAME_OF)
        if document_field is None or not isinstance(body.get(name), str):
            continue
        names = _operation_names(body.get(document_field))
        if names is not None and body[name] not in names:
            return False
    return True


def _given(value: dict, key: str, *, strictly: bool) -> bool:
    """Whether a body hash gives `key` (`name`, or `name=value`: that parameter with that
    value). Strictly, a parameter with no value (null, an empty string, hash or array: none of
    them reaches the API as one in a form body) is not given; otherwise any key present is."""
    name, has_value, wanted = key.partition("=")
    head, *inner = name.replace("]", "").split("[")
    for part in inner:  # `redirects[completed_url]`: a parameter of a hash
        value = value.get(head)
        if not isinstance(value, dict):
            return False
        head = part
    if head not in value:
        return False
    if has_value:
        return str(value[head]).lower() == wanted
    return not strictly or value[head] not in (None, "", {}, [])


def _follows_parameter_rules(value, schema: dict, seen: frozenset = frozenset()) -> bool:
    """Whether a body (or a part of one) keeps the rules its schemas state beside the schema
    (`x-required-one-of`, `x-mutually-exclusive-parameters`, `x-required-with`,
    `x-excluded-with`: api/schema.py), at any depth. Conservative both ways: to require, a
    parameter counts only when it has a value; to exclude, as soon as its key is there."""
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return True
        seen = seen | {schema["$ref"]}
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    for keyword in ("allOf", "anyOf", "oneOf"):
        if not all(
            _follows_parameter_rules(value, child, seen) for child in schema.get(keyword, [])
        ):
            return False
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return all(_follows_parameter_rules(item, schema["items"], seen) for item in value)
    if not isinstance(value, dict):
        return True

    def given(key):
        return _given(value, key, strictly=True)

    def present(key):
        return _given(value, key, strictly=False)

    if not all(any(map(given, group)) for group in schema.get("x-required-one-of", [])):
        return False
    if any(
        sum(map(present, group)) > 1 for group in schema.get("x-mutually-exclusive-parameters", [])
    ):
        return False
    for key, names in schema.get("x-required-with", {}).items():
        if present(key) and not all(map(given, names)):
            return False
    for key, names in schema.get("x-excluded-with", {}).items():
        if present(key) and any(map(present, names)):
            return False
    properties = schema.get("properties") or {}
    return all(
        _follows_parameter_rules(item, properties[name], seen)
        for name, item in value.items()
        if name in properties
    )


@schemathesis.hook
def filter_body(ctx, body):
    """The rules between body parameters that the document states beside the schema, at any
    depth (one of two required, two that exclude one another, one required once another is
    given or has some value): generated data keeps them, as a client following the document
    would. Breaking one is no schema violation either, so the negative half loses nothing."""
    if not isinstance(body, dict):
        return True
    schema = json_body_schema(ctx)
    return schema is None or _follows_parameter_rules(body, schema)


def one_request_per_key(case) -> None:
    """What the document says of the `Idempotency-Key` header: a key names one request, and
    the same key with other parameters (or on another endpoint) is refused. Generated headers
    draw keys at random, and the simplest ones (`0`, `c`) come up again for other requests; a
    client following the document never sends them so. So a key the schema calls valid is made
    the request's own: the drawn key (cut to fit) and a digest of the request, the same for the
    same request (a retry, answered the first result again) and different for another. It
    depends on the case alone, not on what ran before, so hypothesis can replay any case (a
    record of the keys already sent made the stateful walk's replays disagree with their first
    runs). A key that breaks the schema (empty, too long) is left as drawn."""
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if case.method.upper() != "POST" or not isinstance(key, str):
        return
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        return
    request = repr((case.formatted_path, case.query, case.body, case.media_type))
    digest = hashlib.sha256(request.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    headers["Idempotency-Key"] = f"{key[: MAX_IDEMPOTENCY_KEY_LENGTH - 17]}.{digest}"


def _schema_at(node):
    """A document schema with its `$ref`s followed."""
    while isinstance(node, dict) and "$ref" in node:
        node = DOCUMENT["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node if isinstance(node, dict) else {}


def _fits_key_rule(name: str, rule: dict) -> bool:
    return (
        rule.get("minLength", 0) <= len(name) <= rule.get("maxLength", len(name))
        and re.search(rule.get("pattern", ""), name) is not None
    )


def _keys_as_documented(schema, value) -> bool:
    """Every hash in `value` whose schema states `x-property-names` (the rule for its keys that
    OpenAPI 3.0 has no keyword for, JSON Schema's `propertyNames`) has keys that fit it."""
    schema = _schema_at(schema)
    rule = schema.get("x-property-names")
    if rule and isinstance(value, dict) and not all(_fits_key_rule(k, rule) for k in value):
        return False
    for keyword in ("allOf", "anyOf", "oneOf"):
        if not all(_keys_as_documented(child, value) for child in schema.get(keyword, [])):
            return False
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        return all(
            _keys_as_documented(properties[k], v) for k, v in value.items() if k in properties
        )
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return all(_keys_as_documented(schema["items"], item) for item in value)
    return True


@schemathesis.hook("filter_body")
def filter_body_keys_as_documented(ctx, body):
    """What the document states of a hash's keys beside the schema (`x-property-names`: a
    metadata key is 1 to 40 characters without square brackets): data the tests call valid has
    keys that fit it, as a client following the document would send (and a body with a key
    that does not is refused, so the negative half loses nothing by it)."""
    if ctx.operation is None:
        return True
    content = ctx.operation.definition.raw.get("requestBody", {}).get("content", {})
    return all(_keys_as_documented(media.get("schema"), body) for media in content.values())


#: The error codes of a refusal for an object's state (Stripe's `payment_intent_unexpected_state`,
#: PayMongo's `resource_failed_state`), for a named object that does not exist (Stripe's
#: `resource_missing`, PayMongo's `resource_not_found`) or for one that already does (Stripe's
#: `resource_already_exists`: an open checkout holds the `tracking_id`): see schemathesis.toml.
_STATE_CODE = re.compile(
    r"_(unexpected|failed)_state$|^resource_(missing|not_found|already_exists)$"
)
#: The codes of a refusal that depends on the stored object's values rather than on the
#: request (`core.errors.FOR_OBJECT`: an increment not above the intent's current amount, an
#: `allowed_origins` on a checkout intent whose type is never framed): taken only where the
#: path names an existing object (`{id}`), never for a request-only rule (schemathesis.toml).
_FOR_OBJECT_CODE = re.compile(r"_for_object$")
#: The codes of a refusal for an object a parameter names that does not exist (Stripe's
#: `resource_missing`, PayMongo's `resource_not_found`): the only 400 a read answers valid data.
_MISSING_CODE = re.compile(r"^resource_(missing|not_found)$")


def _error_codes(response) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return []
    if not isinstance(body, dict):
        return []
    if isinstance(body.get("error"), dict):
        return [str(body["error"].get("code"))]
    if isinstance(body.get("errors"), list):
        return [str(e.get("code")) for e in body["errors"] if isinstance(e, dict)]
    # Payload's face: its coarse `error_type`, and the service's `code` beside it when it has one
    return [str(body.get("code") or body.get("error_type"))]


@schemathesis.check
def valid_data_is_refused_only_for_state(ctx, response, case):
    """Where schemathesis.toml lets a 400 answer valid data, that 400 must be a refusal for the
    object's state, or for a named object that does not exist or already does (on a read: for a
    named object that does not exist), nothing else."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code != 400:
        return None
    if "400" not in ctx.config.positive_data_acceptance.expected_statuses:
        return None
    codes = _error_codes(response)
    if case.method.upper() == "GET":
        # a read is refused only for an object one of its parameters names that does not exist
        assert codes and all(_MISSING_CODE.search(code) for code in codes), (
            f"Valid data refused with 400 on a read for something other than a missing object: "
            f"{codes}"
        )
        return None
    on_an_object = "{" in case.operation.path
    # PayMongo's codes cannot carry `_for_object`: its face says so in a header instead
    refused_for_the_object = on_an_object and response.headers.get(REFUSED_FOR.lower(), []) == [
        "object"
    ]
    # (a `_for_object` code, or Payload's refusal for the intent's type, on `{id}` paths only)
    assert codes and all(
        _STATE_CODE.search(code)
        or (on_an_object and _FOR_OBJECT_CODE.search(code))
        or refused_for_the_object
        or tests.fuzz_rules.payload.refused_for_the_objects_type(case, code)
        for code in codes
    ), f"Valid data refused with 400 for something other than an object's state or absence: {codes}"
    return None


schema = schemathesis.openapi.from_path(str(SCHEMA_PATH))
schema.app = application
OPERATIONS = [result.ok() for result in schema.get_all_operations()]
# Every check fails the test, and so does any server error: what the document states beside
# the schema (named formats, rules between parameters, amounts and their currency, windows that
# move with the clock, what bracket notation can write) is honoured by the hooks above and in
# tests/fuzz_rules/, so that no failure stands for a rule the document leaves unsaid. Each
# failed check is still written to FUZZ_FAILURES_FILE (`make fuzz` prints them).


def _failure_line(failure: Failure, case, response) -> str:
    """A failed check, the request and the answer, on one line."""
    return " | ".join(
        [
            f"{failure.code} {case.method} {case.formatted_path}: {str(failure)[:800]}",
            f"query={case.query!r} body={case.body!r} media={case.media_type}",
            f"-> {response.status_code} {response.text[:400]}",
        ]
    ).replace("\n", " ")


def _record(lines: list[str]) -> None:
    """Every failed check, appended to FUZZ_FAILURES_FILE when set (`make fuzz` sets it)."""
    if lines and os.environ.get("FUZZ_FAILURES_FILE"):
        with open(os.environ["FUZZ_FAILURES_FILE"], "a", encoding="utf-8") as out:
            out.writelines(line + "\n" for line in lines)


def _failures_of(call) -> list[Failure]:
    try:
        call()
    except FailureGroup as group:
        return list(group.exceptions)
    except Failure as failure:
        return [failure]
    return []


@contextmanager
def keep_the_test_connection():
    """Calling the WSGI handler directly would close the test's database connection at the
    end of each request (Django's test client disconnects the same two receivers, and connects
    them again after each of its own requests)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _fuzz_settings(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )


@pytest.fixture(scope="module")
def worlds(django_db_setup, django_db_blocker):
    """Two accounts, each with its world of real objects (tests/security/world.py), made once
    for the module and committed; every test runs in a transaction rolled back after it (`db`),
    so each one starts from these same objects, whatever the one before it did to them."""

    def build():
        acct = make_account("Acme")
        world = build_world(acct)
        build_world(make_account("Other Corp"))
        return acct, world

    yield from committed_for_module(django_db_blocker, build)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
class TestPositive:
    """Every operation with data that fits the schema. A class of its own, and the negative
    half another, so that `make test` (pytest-xdist's `--dist loadscope`) runs the two halves on
    two workers, each with its own worlds."""

    def test_every_operation_survives_generated_input(self, operation, worlds, db):
        survives_generated_input(operation, GenerationMode.POSITIVE, worlds)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
class TestNegative:
    """Every operation with data that does not fit the schema."""

    def test_every_operation_survives_generated_input(self, operation, worlds, db):
        survives_generated_input(operation, GenerationMode.NEGATIVE, worlds)


def survives_generated_input(operation, mode, worlds):
    load_all_checks()
    acct, world = worlds
    _, prefix_of = scoped_models()
    resource = resource_name(operation.path.replace("{id}", "ID"), "ID")
    prefix = prefix_of.get(resource_model(operation.path, resource), "")
    real_ids = [i for i in world.ids() if i.startswith(prefix + "_")] if prefix else []
    foreign = [i for i in world.ids() if i not in real_ids][:3]
    # HTTP Basic with the key as user name: what /v1/ and every face (PayMongo's, Payload's) take.
    failures: list[str] = []
    cases = server_errors = 0

    @_fuzz_settings(EXAMPLES)
    @given(case=operation.as_strategy(generation_mode=mode), pick=st.randoms(use_true_random=False))
    def run(case, pick: random.Random):
        nonlocal cases, server_errors
        cases += 1
        if case.path_parameters and "id" in case.path_parameters:
            roll = pick.random()
            if real_ids and roll < 0.8:
                case.path_parameters["id"] = pick.choice(real_ids)
            elif foreign and roll < 0.9:
                case.path_parameters["id"] = pick.choice(foreign)
        one_request_per_key(case)
        if "Authorization" not in (case.headers or {}):
            # explicit, so the ignored-auth check retries it with no key and with a wrong one
            apply_basic_auth(case, acct.sk, "")
        response = case.call()
        server_errors += response.status_code >= 500
        for failure in _failures_of(lambda: case.validate_response(response, headers=case.headers)):
            line = _failure_line(failure, case, response)
            failures.append(line)

    with keep_the_test_connection():
        try:
            run()
        except Unsatisfiable:
            # Nothing in the operation can be made invalid: the schema gives it no parameter and
            # no body (checked here, so an operation that has some never passes this way).
            assert mode == GenerationMode.NEGATIVE and cases == 0
            documented = json.loads(SCHEMA_PATH.read_text())["paths"][operation.path]
            described = documented[operation.method.lower()]
            assert not described.get("parameters") and not described.get("requestBody")
            assert not documented.get("parameters")
            return
    # One line per operation, summed by `make fuzz`.
    print(
        f"\nFUZZ {operation.label} {mode}: cases={cases} 5xx={server_errors} "
        f"failures={len(failures)}"
    )
    _record(failures)
    assert cases > 0
    assert failures == [], "\n\n".join(failures[:5])


def test_stateful_links_survive(worlds, db):
    """The schema's links (a created object's id into the operations that take it), walked by
    schemathesis' state machine with every check."""
    load_all_checks()
    acct, _ = worlds
    counts = {"cases": 0, "5xx": 0}
    failures: list[str] = []

    class Machine(schema.as_state_machine()):
        """Each scenario starts from the same objects: it runs in a savepoint rolled back at its
        end. Which step comes next depends on what earlier answers held (the ids in its
        bundles), so a scenario that met what an earlier one left (a `tracking_id` taken, a key
        already used) would be chosen differently when hypothesis runs it again, and hypothesis
        refuses a walk that does not repeat itself."""

        def __init__(self):
            super().__init__()
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)
            super().teardown()

        def before_call(self, case):
            one_request_per_key(case)
            # explicit, so the ignored-auth check retries it with no key and with a wrong one
            apply_basic_auth(case, acct.sk, "")
            super().before_call(case)

        def after_call(self, response, case):
            super().after_call(response, case)
            counts["cases"] += 1
            counts["5xx"] += response.status_code >= 500

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            parent = super().validate_response
            for failure in _failures_of(
                lambda: parent(response, case, additional_checks, **kwargs)
            ):
                line = _failure_line(failure, case, response)
                failures.append(line)

    Machine.TestCase.settings = settings(
        max_examples=STEPS,
        stateful_step_count=10,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    with keep_the_test_connection():
        Machine.run()
    print(f"\nFUZZ stateful: cases={counts['cases']} 5xx={counts['5xx']} failures={len(failures)}")
    _record(failures)
    assert counts["cases"] > 0
    assert counts["5xx"] == 0
    assert failures == [], "\n\n".join(failures[:5])


def test_a_nested_array_or_object_in_form_style_has_no_form_body():
    """The harness sends no form body for what form style cannot write (it once wrote Python's
    `[[]]` for `email: [[[]]]`, a string the API took, and reported the API for taking it)."""
    assert _nested_in_form_style({"email": [[[]]]}, {})
    assert _nested_in_form_style({"attrs": {"k": ["a"]}}, {})
    assert _nested_in_form_style({"§H": {}}, {})  # no pair: the unknown key is never sent
    assert not _nested_in_form_style({"email": "a@example.com", "tags": ["a", "b"]}, {})
    deep = {"metadata": {"style": "deepObject", "explode": True}}
    assert not _nested_in_form_style({"metadata": {"k": {"x": "1"}}}, deep)
