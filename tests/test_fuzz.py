"""Schemathesis over every operation of docs/openapi.json, against the application in-process,
with real ids: every `{id}` is, most of the time, the id of a real object of the right kind made
through the API first (an intent in each state, a customer, a method, a charge, an event, an
endpoint), so generated bodies reach the services rather than stopping at a 404.

A case fails on any 5xx, a response that breaks the documented schema (status code, content
type, body), or an unhandled exception. The budget is fixed and modest (FUZZ_EXAMPLES cases per
operation, 15 by default); `make fuzz` runs a larger one. The schema has no OpenAPI links, so
the ids come from the world built before each operation instead.
"""

from __future__ import annotations

import os
import random
from contextlib import contextmanager
from pathlib import Path

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api.views import resource_name, scoped_models
from config.wsgi import application
from tests.security.world import build_world

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)

schema = schemathesis.from_path(str(SCHEMA_PATH), app=application)
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


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


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.verbose_name)
def test_every_operation_survives_generated_input(operation, acct, other_acct):
    world = build_world(acct)
    build_world(other_acct)
    _, prefix_of = scoped_models()
    resource = resource_name(operation.path.replace("{id}", "ID"), "ID")
    prefix = prefix_of.get(resource, "")
    real_ids = [i for i in world.ids() if i.startswith(prefix + "_")] if prefix else []
    foreign = [i for i in world.ids() if i not in real_ids][:3]
    headers = {"Authorization": f"Bearer {acct.sk}"}
    failures: list[str] = []
    cases = server_errors = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), pick=st.randoms(use_true_random=False))
    def run(case, pick: random.Random):
        nonlocal cases, server_errors
        cases += 1
        if case.path_parameters and "id" in case.path_parameters:
            roll = pick.random()
            if real_ids and roll < 0.8:
                case.path_parameters["id"] = pick.choice(real_ids)
            elif foreign and roll < 0.9:
                case.path_parameters["id"] = pick.choice(foreign)
        case.headers = {**(case.headers or {}), **headers}
        response = case.call_wsgi()
        server_errors += response.status_code >= 500
        try:
            case.validate_response(response, checks=CHECKS)
        except AssertionError as exc:
            failures.append(f"{case.method} {case.formatted_path}: {str(exc)[:600]}")

    with keep_the_test_connection():
        run()
    # One line per operation, summed by `make fuzz`.
    print(
        f"\nFUZZ {operation.verbose_name}: cases={cases} 5xx={server_errors} failures={len(failures)}"
    )
    assert cases > 0
    assert failures == [], "\n\n".join(failures[:5])
