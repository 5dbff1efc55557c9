"""Django's own 400/403/404/500 answers in the dialect of where the request went: the JSON
envelope on /v1/, each face's JSON under its prefix, plain text everywhere else."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import Client, RequestFactory

from config import error_handlers


@pytest.mark.parametrize(
    ("path", "shape"),
    [
        ("/v1/nothing_here", lambda body: body["error"]["code"] == "resource_missing"),
        ("/paymongo/v1/nothing_here", lambda body: body["errors"][0]["code"]),
        ("/payload/nothing_here", lambda body: body["error_type"]),
        ("/whenthen/nothing_here", lambda body: body["errors"][0]["extensions"]["code"]),
    ],
)
def test_an_unknown_path_of_an_api_answers_in_its_dialect(path, shape, db):
    answer = Client().get(path)
    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("application/json")
    assert shape(answer.json())


@pytest.mark.parametrize("path", ["/nothing_here", "/a/b/nothing_here", "/docs/nothing_here"])
def test_an_unknown_path_elsewhere_answers_plain_text(path, db):
    answer = Client().get(path)
    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("text/plain")
    assert path in answer.content.decode()


@pytest.mark.parametrize(
    ("handler", "args", "status"),
    [
        (error_handlers.handler400, (SuspiciousOperation(),), 400),
        (error_handlers.handler403, (PermissionDenied(),), 403),
        (error_handlers.handler500, (), 500),
    ],
)
def test_the_other_handlers_follow_the_same_dialects(handler, args, status):
    factory = RequestFactory()
    plain = handler(factory.get("/admin/x"), *args)
    assert plain.status_code == status and plain["Content-Type"].startswith("text/plain")
    api = handler(factory.get("/v1/x"), *args)
    assert api.status_code == status and "error" in json.loads(api.content)
    face = handler(factory.get("/paymongo/v1/x"), *args)
    assert face.status_code == status and "errors" in json.loads(face.content)


def test_a_post_to_an_unknown_page_is_the_404_not_the_csrf_page(db):
    answer = Client(enforce_csrf_checks=True).post("/nothing_here", {"a": "b"})
    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("text/plain")
