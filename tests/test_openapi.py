"""The committed schema (docs/openapi.json) is what the code serves; regenerate with `make openapi`."""

import json
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator

ROOT = Path(__file__).resolve().parent.parent


def generated() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_committed_openapi_schema_matches_the_code():
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert json.loads(json.dumps(generated())) == committed, (
        "docs/openapi.json drifted: run `make openapi`"
    )


def test_every_v1_operation_documents_the_error_envelope():
    schema = generated()
    operations = [
        (path, method, op)
        for path, methods in schema["paths"].items()
        if path.startswith("/v1/")
        for method, op in methods.items()
    ]
    for path, method, op in operations:
        for status in ("400", "401", "404", "500"):
            assert status in op["responses"], f"{method.upper()} {path} lacks {status}"


@pytest.mark.django_db
def test_openapi_json_is_served():
    from tests.helpers import StripeTestClient

    response = StripeTestClient("").get("/openapi.json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_parameters_that_exclude_one_another_are_stated():
    """A list's two cursors, and the events list's `type` and `types[]`: OpenAPI 3.0 has no
    schema for "at most one of", so each operation says so in words and for tools."""
    schema = generated()
    stated = {}
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            names = {p["name"] for p in operation.get("parameters", [])}
            groups = operation.get("x-mutually-exclusive-parameters", [])
            if {"starting_after", "ending_before"} <= names:
                assert ["starting_after", "ending_before"] in groups, (method, path)
                assert (
                    "Give at most one of `starting_after` or `ending_before`"
                    in (operation["description"])
                )
            for group in groups:
                assert set(group) <= names, (method, path, group)
            stated[(method, path)] = groups
    assert ["type", "types[]"] in stated[("get", "/v1/events")]
    assert sum(bool(groups) for groups in stated.values()) >= 20
