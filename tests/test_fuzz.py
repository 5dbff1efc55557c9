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

import json
import os
import random
import re
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.auths import apply_basic_auth
from schemathesis.checks import load_all_checks
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.jsonschema import make_validator
from schemathesis.core.parameters import ParameterLocation

from api.views import resource_name, scoped_models
from config.wsgi import application
from tests.conftest import committed_for_module, make_account
from tests.helpers import encode_form_as_documented, form_text
from tests.security.world import build_world

pytestmark = pytest.mark.long(50)

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
STEPS = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", str(EXAMPLES)))

DOCUMENT = json.loads(SCHEMA_PATH.read_text())
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


def _only_the_body_is_negative(case) -> bool:
    meta = case.meta
    if meta is None or not meta.is_negative_at(ParameterLocation.BODY):
        return False
    others = (ParameterLocation.QUERY, ParameterLocation.PATH, ParameterLocation.HEADER)
    return not any(meta.is_negative_at(location) for location in others)


def _leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def _valid_as_text(case, body: dict) -> bool:
    """Whether a form body fits its schema once every value is the text a form carries (the
    API's description: `true`, `false` or a number given for a string is that string): each
    boolean, number or null is read as its text wherever that leaves fewer violations."""
    alternative = case.operation.get_body_for_media_type(_FORM)
    if alternative is None:
        return False
    validator = make_validator(
        alternative.optimized_schema, case.operation.schema.adapter.jsonschema_validator_cls
    )
    instance = json.loads(json.dumps(body))
    errors = sum(1 for _ in validator.iter_errors(instance))
    for path, leaf in list(_leaves(instance)):
        if errors == 0 or not path or isinstance(leaf, str):
            continue
        *parents, last = path
        container = instance
        for step in parents:
            container = container[step]
        container[last] = form_text(leaf)
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
    groups = ctx.operation.definition.raw.get("x-mutually-exclusive-parameters", [])
    return not any(sum(name in query for name in group) > 1 for group in groups)


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
#: PayMongo's `resource_failed_state`): see schemathesis.toml.
_STATE_CODE = re.compile(r"_(unexpected|failed)_state$")


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
    return [str(body.get("error_type"))]


@schemathesis.check
def valid_data_is_refused_only_for_state(ctx, response, case):
    """Where schemathesis.toml lets a 400 answer valid data (operations on an object in some
    state), that 400 must be a refusal for the object's state, nothing else."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code != 400:
        return None
    if "400" not in ctx.config.positive_data_acceptance.expected_statuses:
        return None
    codes = _error_codes(response)
    assert codes and all(_STATE_CODE.search(code) for code in codes), (
        f"Valid data refused with 400 for something other than the object's state: {codes}"
    )
    return None


schema = schemathesis.openapi.from_path(str(SCHEMA_PATH))
schema.app = application
OPERATIONS = [result.ok() for result in schema.get_all_operations()]
#: Failures of these checks are counted, printed and written to FUZZ_FAILURES_FILE (and summed
#: by `make fuzz`) but do not fail the test yet. ST202, a schema-valid request refused, for rules
#: the document does not state: currency codes (left out of the schema on purpose, so generated
#: clients take a plain string), the search query's grammar, parameters that require one another
#: (`payment_method_data[card][number]` once `type` is card). Parameters that exclude one another
#: are stated (`x-mutually-exclusive-parameters`) and honoured by `filter_query`. ST201, a request breaking the schema accepted: an empty string, the Stripe
#: dialect's "not given", where the schema says `minLength: 1`. ST901, our own
#: `valid_data_is_refused_only_for_state`: the same refusals as ST202, on operations on an
#: object (metadata the schema leaves untyped, `expand` values, a card's required fields). ST401
#: until the stateful walk's explicit key has had a long run. A 400 for an object's state is no longer among them
#: (schemathesis.toml and `valid_data_is_refused_only_for_state`), nor form bodies, nested
#: unknown keys or the `created` hash (the document now says how they are written). Every other
#: check, and any server error, fails the test.
OPEN = {"ST201", "ST202", "ST401", "ST901"}


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
    prefix = prefix_of.get(resource, "")
    real_ids = [i for i in world.ids() if i.startswith(prefix + "_")] if prefix else []
    foreign = [i for i in world.ids() if i not in real_ids][:3]
    # HTTP Basic with the key as user name: what /v1/ and every face (PayMongo's, Payload's) take.
    failures: list[str] = []
    open_failures: list[str] = []
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
        if "Authorization" not in (case.headers or {}):
            # explicit, so the ignored-auth check retries it with no key and with a wrong one
            apply_basic_auth(case, acct.sk, "")
        response = case.call()
        server_errors += response.status_code >= 500
        for failure in _failures_of(lambda: case.validate_response(response, headers=case.headers)):
            line = _failure_line(failure, case, response)
            (open_failures if failure.code in OPEN else failures).append(line)

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
        f"failures={len(failures) + len(open_failures)} open={len(open_failures)}"
    )
    _record(open_failures + failures)
    assert cases > 0
    assert failures == [], "\n\n".join(failures[:5])


def test_stateful_links_survive(worlds, db):
    """The schema's links (a created object's id into the operations that take it), walked by
    schemathesis' state machine with every check."""
    load_all_checks()
    acct, _ = worlds
    counts = {"cases": 0, "5xx": 0}
    failures: list[str] = []
    open_failures: list[str] = []

    class Machine(schema.as_state_machine()):
        def before_call(self, case):
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
                (open_failures if failure.code in OPEN else failures).append(line)

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
    print(
        f"\nFUZZ stateful: cases={counts['cases']} 5xx={counts['5xx']} "
        f"failures={len(failures) + len(open_failures)} open={len(open_failures)}"
    )
    _record(open_failures + failures)
    assert counts["cases"] > 0
    assert counts["5xx"] == 0
    assert failures == [], "\n\n".join(failures[:5])
