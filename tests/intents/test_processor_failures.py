"""A processor call that raises is a failed attempt (payments.attempts maps it, in one place),
never a 500, and never leaves an attempt recorded on the intent (which would lock it)."""

import pytest

from payments.models import Attempt
from payments.processors.simulated import SimulatedProcessor
from tests.intents.conftest import db_intent

pytestmark = pytest.mark.usefixtures("processor_mode")  # every movement, both ways

URL = "/v1/payment_intents"


def _failed_attempt(pi_id: str, kind: str) -> Attempt:
    """The intent's one attempt of `kind`: settled with the processing error, none recorded."""
    assert not Attempt.objects.filter(target=pi_id, status="recorded").exists()
    attempt = Attempt.objects.get(target=pi_id, kind=kind)
    assert attempt.status in ("applied", "answered")
    assert attempt.answer["decline"]["code"] == "processing_error"
    return attempt


def _unreachable(self, **kwargs):
    raise ConnectionError("processor unreachable")


def test_an_authorisation_the_processor_fails_is_a_402_processing_error(
    client, create_intent, monkeypatch
):
    pi = create_intent()
    with monkeypatch.context() as patched:
        patched.setattr(SimulatedProcessor, "authorize", _unreachable)
        r = client.post(f"{URL}/{pi['id']}/confirm", {"payment_method": "pm_card_visa"})
    assert r.status_code == 402
    assert (r.error["code"], r.error["decline_code"]) == ("processing_error", "processing_error")
    assert r.error["payment_intent"]["status"] == "requires_payment_method"
    _failed_attempt(pi["id"], "authorize")
    r = client.post(f"{URL}/{pi['id']}/confirm", {"payment_method": "pm_card_visa"})
    assert r.json()["status"] == "succeeded"


@pytest.mark.parametrize(
    "method,path,params",
    [("capture", "capture", {}), ("increment", "increment_authorization", {"amount": 2500})],
)
def test_a_capture_or_increment_the_processor_fails_leaves_the_authorisation(
    client, confirmed, monkeypatch, method, path, params
):
    pi = confirmed().json()
    with monkeypatch.context() as patched:
        patched.setattr(SimulatedProcessor, method, _unreachable)
        r = client.post(f"{URL}/{pi['id']}/{path}", params)
    assert r.status_code == 402
    assert r.error["code"] == "processing_error"
    intent = db_intent(pi["id"])
    assert intent.status == "requires_capture"
    _failed_attempt(pi["id"], method)
    assert intent.amount == 2000 and intent.amount_capturable == 2000
    assert client.post(f"{URL}/{pi['id']}/{path}", params).status_code == 200


def test_a_release_the_processor_fails_still_cancels(client, confirmed, monkeypatch):
    pi = confirmed().json()
    monkeypatch.setattr(SimulatedProcessor, "void", _unreachable)
    r = client.post(f"{URL}/{pi['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "canceled"
