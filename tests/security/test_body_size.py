"""Request bodies are capped at settings.DATA_UPLOAD_MAX_MEMORY_SIZE: 413, nothing executed."""

from __future__ import annotations

import json

import pytest

from api.models import IdempotencyKey
from events.models import Event
from tests.security.urls_for_tests import WIDGET_EVENT

pytestmark = pytest.mark.urls("tests.security.urls_for_tests")
URL = "/v1/test_widgets"


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/x-www-form-urlencoded", "amount=100&metadata[pad]=" + "x" * 2000),
        ("application/json", json.dumps({"amount": 100, "metadata": {"pad": "x" * 2000}})),
    ],
)
def test_body_over_the_cap_is_413_and_executes_nothing(client, settings, content_type, body):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.raw(
        "POST", URL, body, content_type=content_type, headers={"Idempotency-Key": "big"}
    )
    assert response.status_code == 413
    assert response.error["type"] == "invalid_request_error"
    assert response.error["code"] == "request_too_large"
    assert not Event.objects.filter(type=WIDGET_EVENT).exists()
    assert not IdempotencyKey.objects.exists()


def test_body_under_the_cap_is_accepted(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.raw("POST", URL, "amount=100")
    assert response.status_code == 200
