"""SetupIntents go through the processor as a payment does: the confirm is a verification
attempt recorded before the call, declining cards fail the setup (402, `last_setup_error`,
`setup_intent.setup_failed`), 3-D Secure cards ask for the challenge (`requires_action`,
`next_action`) and finish on the hosted 3-D Secure page, with the events Stripe sends."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from events.models import Event
from payments.models import Attempt, PaymentMethod
from payments.processors.simulated import SimulatedProcessor
from payments.services import attempts_reconcile

pytestmark = pytest.mark.usefixtures("processor_mode")  # every movement, both ways

URL = "/v1/setup_intents"


@pytest.fixture
def customer(client):
    return client.post("/v1/customers", {"email": "ada@example.com"}).json()["id"]


def _setup(client, customer, **params):
    response = client.post(URL, {"customer": customer, **params})
    assert response.status_code == 200, response.json()
    return response.json()


def _confirm(client, si_id, pm, **params):
    return client.post(f"{URL}/{si_id}/confirm", {"payment_method": pm, **params})


def _types(si_id):
    return list(
        Event.objects.filter(object_id=si_id)
        .order_by("created", "id")
        .values_list("type", flat=True)
    )


def _press(client, url, outcome):
    parts = urlsplit(url)
    token = parse_qs(parts.query)["token"][0]
    return client.django.post(parts.path, {"token": token, "outcome": outcome})


def test_a_good_card_is_verified_by_the_processor_and_saved(client, customer):
    si = _setup(client, customer)
    body = _confirm(client, si["id"], "pm_card_visa").json()
    assert body["status"] == "succeeded" and body["next_action"] is None
    attempts = list(Attempt.objects.filter(target=si["id"]).values_list("kind", "status"))
    assert attempts == [("verify", "applied")]
    assert PaymentMethod.objects.get(id=body["payment_method"]).customer_id == customer
    assert _types(si["id"]) == ["setup_intent.created", "setup_intent.succeeded"]


@pytest.mark.parametrize(
    ("pm", "code", "decline_code"),
    [
        ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
    ],
)
def test_a_declining_card_fails_the_setup_with_last_setup_error(
    client, customer, pm, code, decline_code
):
    si = _setup(client, customer)
    response = _confirm(client, si["id"], pm)
    assert response.status_code == 402
    error = response.json()["error"]
    assert (error["type"], error["code"], error["decline_code"]) == (
        "card_error",
        code,
        decline_code,
    )
    embedded = error["setup_intent"]
    assert (embedded["id"], embedded["status"]) == (si["id"], "requires_payment_method")
    assert embedded["last_setup_error"]["code"] == code
    assert embedded["last_setup_error"]["decline_code"] == decline_code
    assert embedded["payment_method"] is None
    shown = client.get(f"{URL}/{si['id']}").json()
    assert shown["last_setup_error"] == embedded["last_setup_error"]
    assert _types(si["id"]) == ["setup_intent.created", "setup_intent.setup_failed"]
    assert list(Attempt.objects.filter(target=si["id"]).values_list("kind", flat=True)) == [
        "verify"
    ]
    assert not PaymentMethod.objects.filter(customer_id=customer).exists()
    # a good card afterwards saves it
    assert _confirm(client, si["id"], "pm_card_visa").json()["status"] == "succeeded"


@pytest.mark.parametrize("pm", ["pm_card_authenticationRequired", "pm_card_threeDSecure2Required"])
def test_a_3d_secure_card_requires_action_and_completes_on_the_hosted_page(client, customer, pm):
    si = _setup(client, customer)
    body = _confirm(client, si["id"], pm, return_url="https://shop.test/saved?c=1").json()
    assert body["status"] == "requires_action", body
    action = body["next_action"]
    assert action["type"] == "redirect_to_url"
    assert action["redirect_to_url"]["return_url"] == "https://shop.test/saved?c=1"
    url = action["redirect_to_url"]["url"]
    assert f"/authenticate/setup_intents/{si['id']}?token=" in url
    assert not PaymentMethod.objects.filter(customer_id=customer).exists()
    page = client.django.get(url.split("testserver", 1)[-1]).content.decode()
    assert "saving this card" in page
    response = _press(client, url, "complete")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert (query["setup_intent"], query["redirect_status"], query["c"]) == (
        [si["id"]],
        ["succeeded"],
        ["1"],
    )
    done = client.get(f"{URL}/{si['id']}").json()
    assert (done["status"], done["next_action"]) == ("succeeded", None)
    assert PaymentMethod.objects.get(id=done["payment_method"]).customer_id == customer
    assert _types(si["id"]) == [
        "setup_intent.created",
        "setup_intent.requires_action",
        "setup_intent.succeeded",
    ]
    kinds = Attempt.objects.filter(target=si["id"]).order_by("created")
    assert list(kinds.values_list("kind", "status")) == [
        ("verify", "applied"),
        ("verify_3ds", "applied"),
    ]
    # the page again: nothing left to do, nothing changed
    assert _press(client, url, "complete").status_code == 302
    assert Attempt.objects.filter(target=si["id"]).count() == 2


def test_a_failed_challenge_fails_the_setup(client, customer):
    si = _setup(client, customer)
    body = _confirm(
        client, si["id"], "pm_card_authenticationRequired", return_url="https://shop.test/r"
    ).json()
    response = _press(client, body["next_action"]["redirect_to_url"]["url"], "fail")
    assert parse_qs(urlsplit(response["Location"]).query)["redirect_status"] == ["failed"]
    failed = client.get(f"{URL}/{si['id']}").json()
    assert failed["status"] == "requires_payment_method"
    assert failed["last_setup_error"]["code"] == "setup_intent_authentication_failure"
    assert _types(si["id"])[-1] == "setup_intent.setup_failed"


def test_the_attempt_is_recorded_before_the_processor_is_called(
    client, customer, processor_mode, monkeypatch
):
    seen = []
    verify = SimulatedProcessor.verify

    def spy(self, **kwargs):
        seen.append(
            list(Attempt.objects.filter(id=kwargs["attempt_id"]).values_list("kind", "status"))
        )
        return verify(self, **kwargs)

    monkeypatch.setattr(SimulatedProcessor, "verify", spy)
    si = _setup(client, customer)
    assert _confirm(client, si["id"], "pm_card_visa").json()["status"] == "succeeded"
    # two phases: committed `recorded` before the call; one transaction: inserted with the
    # answer, in the call's own transaction (nothing of it visible before)
    assert seen == ([[("verify", "recorded")]] if processor_mode == "two_phases" else [[]])


def test_an_outage_fails_the_setup_as_a_processing_error(client, customer, acct):
    from routing.models import ProcessorConnection

    si = _setup(client, customer)
    _confirm(client, si["id"], "pm_card_visa")  # the scope's built-in connection made
    other = _setup(client, customer)
    ProcessorConnection.objects.filter(account_id=acct.account.id).update(behavior="outage")
    response = _confirm(client, other["id"], "pm_card_mastercard")
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "processing_error"
    assert Attempt.objects.get(target=other["id"]).answer["processor_error"] is True


class Killed(BaseException):
    """The process serving the request is gone (nothing in the request catches it)."""


@pytest.mark.parametrize("reached_processor", [True, False])
def test_a_verification_left_recorded_by_a_crash_is_settled_by_the_reconciler(
    client, customer, settings, monkeypatch, reached_processor
):
    settings.SIMULATED_PROCESSOR_IN_PROCESS = False  # a crash between the two phases
    verify = SimulatedProcessor.verify

    def dying(self, **kwargs):
        monkeypatch.setattr(SimulatedProcessor, "verify", verify)
        if reached_processor:
            verify(self, **kwargs)
        raise Killed()

    monkeypatch.setattr(SimulatedProcessor, "verify", dying)
    si = _setup(client, customer)
    with pytest.raises(Killed):
        client.post(f"{URL}/{si['id']}/confirm", {"payment_method": "pm_card_visa"})
    [recorded] = Attempt.objects.filter(target=si["id"], status="recorded")
    assert recorded.kind == "verify"
    assert client.get(f"{URL}/{si['id']}").json()["status"] == "requires_confirmation"
    ago = timedelta(seconds=settings.INFLIGHT_TIMEOUT_SECONDS + 1)
    Attempt.objects.filter(pk=recorded.pk).update(claimed_at=recorded.claimed_at - ago)
    assert attempts_reconcile() == 1
    settled = Attempt.objects.get(pk=recorded.pk)
    shown = client.get(f"{URL}/{si['id']}").json()
    if reached_processor:  # what the processor did is applied: the card is saved
        assert (settled.status, shown["status"]) == ("applied", "succeeded")
        assert _types(si["id"])[-1] == "setup_intent.succeeded"
    else:  # never received: nothing happened, the SetupIntent may be confirmed again
        assert (settled.status, shown["status"]) == ("aborted", "requires_confirmation")
        assert client.post(f"{URL}/{si['id']}/confirm").json()["status"] == "succeeded"
