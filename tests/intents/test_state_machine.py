"""Every arrow of the payment intent lifecycle, through HTTP."""

import pytest

from events.models import Event
from intents.services import (
    charges_capture_pending,
    payment_intents_abandon_stale,
    payment_intents_expire_due,
    payment_intents_resolve_due,
)
from payments.models import Charge
from tests.intents.conftest import db_intent

pytestmark = pytest.mark.usefixtures("processor_mode")  # every movement, both ways

URL = "/v1/payment_intents"


def confirm(client, pi_id, pm="pm_card_visa", **params):
    return client.post(f"{URL}/{pi_id}/confirm", {"payment_method": pm, **params})


def _capture_events(charge) -> list[str]:
    """The types of the events about `charge` after its `charge.succeeded`, oldest first."""
    return list(
        Event.objects.filter(object_id=charge.id)
        .exclude(type="charge.succeeded")
        .order_by("created", "id")
        .values_list("type", flat=True)
    )


# --- create -----------------------------------------------------------------------------------


def test_create_starts_in_requires_payment_method(create_intent):
    pi = create_intent()
    assert pi["status"] == "requires_payment_method"
    assert pi["object"] == "payment_intent"
    assert pi["id"].startswith("pi_")
    assert pi["client_secret"].startswith(pi["id"] + "_secret_")
    assert pi["capture_method"] == "automatic_async"
    assert pi["amount_capturable"] == 0 and pi["amount_received"] == 0


def test_create_with_payment_method_requires_confirmation(create_intent):
    pi = create_intent(payment_method="pm_card_visa")
    assert pi["status"] == "requires_confirmation"
    assert pi["payment_method"].startswith("pm_")


def test_create_with_confirm_true_continues_as_a_confirm(create_intent):
    pi = create_intent(payment_method="pm_card_visa", confirm=True)
    assert pi["status"] == "succeeded"
    assert pi["amount_received"] == 2000
    assert pi["latest_charge"].startswith("ch_")


def test_create_with_confirm_and_declining_card_answers_402(client):
    r = client.post(
        URL,
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_chargeDeclined",
            "confirm": True,
        },
    )
    assert r.status_code == 402
    assert r.error["payment_intent"]["status"] == "requires_payment_method"


def test_off_session_without_confirm_is_rejected(client):
    r = client.post(URL, {"amount": 2000, "currency": "usd", "off_session": True})
    assert r.status_code == 400
    assert r.error["param"] == "off_session"


def test_create_writes_payment_intent_created_event(create_intent):
    pi = create_intent()
    event = Event.objects.get(object_id=pi["id"], type="payment_intent.created")
    assert event.data["object"]["status"] == "requires_payment_method"


# --- confirm: outcomes -------------------------------------------------------------------------


def test_confirm_automatic_capture_succeeds_with_captured_charge(client, create_intent):
    pi = create_intent(capture_method="automatic")
    r = confirm(client, pi["id"])
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "succeeded"
    assert body["amount_received"] == 2000 and body["amount_capturable"] == 0
    charge = Charge.objects.get(id=body["latest_charge"])
    assert charge.captured and charge.amount_captured == 2000


def test_confirm_automatic_async_succeeds_and_leaves_capture_to_a_worker(client, create_intent):
    pi = create_intent()
    body = confirm(client, pi["id"]).json()
    assert body["status"] == "succeeded"
    assert body["amount_received"] == 2000
    charge = Charge.objects.get(id=body["latest_charge"])
    assert charge.capture_pending and not charge.captured


def test_automatic_capture_sends_charge_succeeded_and_no_charge_captured(client, create_intent):
    body = confirm(client, create_intent(capture_method="automatic")["id"]).json()
    charge = Charge.objects.get(id=body["latest_charge"])
    assert charge.captured and charge.amount_captured == 2000
    assert Event.objects.filter(object_id=charge.id, type="charge.succeeded").count() == 1
    assert _capture_events(charge) == []


def test_async_capture_marks_charge_captured_and_sends_charge_updated(client, create_intent):
    body = confirm(client, create_intent()["id"]).json()
    assert charges_capture_pending() == 1
    charge = Charge.objects.get(id=body["latest_charge"])
    assert charge.captured and not charge.capture_pending and charge.amount_captured == 2000
    assert _capture_events(charge) == ["charge.updated"]  # as Stripe: no charge.captured
    updated = Event.objects.get(object_id=charge.id, type="charge.updated").data
    assert updated["object"]["captured"] is True
    assert updated["previous_attributes"]["captured"] is False
    assert charges_capture_pending() == 0  # idempotent


def test_confirm_manual_capture_stops_at_requires_capture(client, create_intent):
    pi = create_intent(capture_method="manual")
    body = confirm(client, pi["id"]).json()
    assert body["status"] == "requires_capture"
    assert body["amount_capturable"] == 2000 and body["amount_received"] == 0
    assert Event.objects.filter(
        object_id=pi["id"], type="payment_intent.amount_capturable_updated"
    ).exists()


def test_confirm_from_requires_confirmation_uses_the_attached_method(client, create_intent):
    pi = create_intent(payment_method="pm_card_visa", capture_method="manual")
    r = client.post(f"{URL}/{pi['id']}/confirm")
    assert r.json()["status"] == "requires_capture"


def test_confirm_without_any_payment_method_is_unexpected_state(client, create_intent):
    pi = create_intent()
    r = client.post(f"{URL}/{pi['id']}/confirm")
    assert r.status_code == 400
    assert r.error["code"] == "payment_intent_unexpected_state"
    assert r.error["payment_intent"]["id"] == pi["id"]


def test_reconfirming_a_succeeded_intent_is_unexpected_state(client, create_intent):
    pi = create_intent(capture_method="automatic")
    confirm(client, pi["id"])
    r = confirm(client, pi["id"])
    assert r.status_code == 400
    assert r.error["code"] == "payment_intent_unexpected_state"
    assert "status of succeeded" in r.error["message"]
    assert r.error["payment_intent"]["status"] == "succeeded"
    assert Charge.objects.filter(payment_intent_id=pi["id"]).count() == 1


SUCCEEDING = ["pm_card_visa", "pm_card_mastercard", "pm_card_amex"]
DECLINES = [
    ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
    ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
    ("pm_card_chargeDeclinedLostCard", "card_declined", "lost_card"),
    ("pm_card_chargeDeclinedStolenCard", "card_declined", "stolen_card"),
    ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
    ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc"),
    ("pm_card_chargeDeclinedProcessingError", "processing_error", "processing_error"),
]


@pytest.mark.parametrize("pm", SUCCEEDING)
def test_succeeding_magic_cards_succeed(client, create_intent, pm):
    body = confirm(client, create_intent()["id"], pm).json()
    assert body["status"] == "succeeded"


@pytest.mark.parametrize(
    "number", ["4242424242424242", "5555555555554444", "378282246310005", "4000056655665556"]
)
def test_succeeding_card_numbers_succeed(client, create_intent, number):
    pi = create_intent()
    r = client.post(
        f"{URL}/{pi['id']}/confirm",
        {
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2040, "cvc": "123"},
            }
        },
    )
    assert r.status_code == 200, r
    assert r.json()["status"] == "succeeded"


@pytest.mark.parametrize("pm,code,decline_code", DECLINES)
def test_declining_cards_answer_402_and_return_to_requires_payment_method(
    client, create_intent, pm, code, decline_code
):
    pi = create_intent()
    r = confirm(client, pi["id"], pm)
    assert r.status_code == 402
    error = r.error
    assert error["type"] == "card_error"
    assert error["code"] == code
    assert error["decline_code"] == decline_code
    embedded = error["payment_intent"]
    assert embedded["id"] == pi["id"]
    assert embedded["status"] == "requires_payment_method"
    assert embedded["payment_method"] is None
    lpe = embedded["last_payment_error"]
    assert lpe["code"] == code and lpe["decline_code"] == decline_code
    assert lpe["type"] == "card_error"
    assert lpe["payment_method"]["object"] == "payment_method"
    assert lpe["message"]
    charge = Charge.objects.get(id=embedded["latest_charge"])
    assert charge.status == "failed" and charge.failure_code == code
    assert Event.objects.filter(object_id=pi["id"], type="payment_intent.payment_failed").exists()
    assert Event.objects.filter(object_id=charge.id, type="charge.failed").exists()


@pytest.mark.parametrize(
    "number,code,decline_code",
    [
        ("4000000000000002", "card_declined", "generic_decline"),
        ("4000000000009995", "card_declined", "insufficient_funds"),
        ("4000000000009987", "card_declined", "lost_card"),
        ("4000000000009979", "card_declined", "stolen_card"),
        ("4000000000000069", "expired_card", "expired_card"),
        ("4000000000000127", "incorrect_cvc", "incorrect_cvc"),
        ("4000000000000119", "processing_error", "processing_error"),
    ],
)
def test_declining_card_numbers_decline(client, create_intent, number, code, decline_code):
    pi = create_intent()
    r = client.post(
        f"{URL}/{pi['id']}/confirm",
        {
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2040, "cvc": "123"},
            }
        },
    )
    assert r.status_code == 402
    assert (r.error["code"], r.error["decline_code"]) == (code, decline_code)


def test_luhn_invalid_number_is_402_incorrect_number(client, create_intent):
    pi = create_intent()
    r = client.post(
        f"{URL}/{pi['id']}/confirm",
        {
            "payment_method_data": {
                "type": "card",
                "card": {"number": "4242424242424241", "exp_month": 12, "exp_year": 2040},
            }
        },
    )
    assert r.status_code == 402
    assert r.error["code"] == "incorrect_number"
    assert db_intent(pi["id"]).status == "requires_payment_method"


def test_confirm_after_a_decline_with_a_good_card_succeeds(client, create_intent):
    pi = create_intent()
    assert confirm(client, pi["id"], "pm_card_chargeDeclined").status_code == 402
    r = confirm(client, pi["id"], "pm_card_visa")
    assert r.json()["status"] == "succeeded"
    assert r.json()["last_payment_error"] is None


def test_three_d_secure_card_requires_action_with_hosted_page(client, create_intent):
    pi = create_intent()
    r = confirm(
        client, pi["id"], "pm_card_authenticationRequired", return_url="https://shop.test/r"
    )
    body = r.json()
    assert body["status"] == "requires_action"
    action = body["next_action"]
    assert action["type"] == "redirect_to_url"
    assert "/authenticate/payment_intents/" + pi["id"] in action["redirect_to_url"]["url"]
    assert action["redirect_to_url"]["return_url"] == "https://shop.test/r"
    assert Event.objects.filter(object_id=pi["id"], type="payment_intent.requires_action").exists()


def test_three_d_secure_card_off_session_is_402_authentication_required(client, create_intent):
    r = client.post(
        URL,
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_authenticationRequired",
            "confirm": True,
            "off_session": True,
        },
    )
    assert r.status_code == 402
    assert r.error["code"] == "authentication_required"
    assert r.error["decline_code"] == "authentication_required"


def test_error_on_requires_action_declines_instead_of_requiring_action(client):
    r = client.post(
        URL,
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_authenticationRequired",
            "confirm": True,
            "error_on_requires_action": True,
        },
    )
    assert r.status_code == 402
    assert r.error["payment_intent"]["status"] == "requires_payment_method"


@pytest.mark.parametrize("pm", ["pm_card_processing", "pm_card_processingDeclined"])
def test_processing_cards_answer_processing(client, create_intent, pm):
    pi = create_intent()
    body = confirm(client, pi["id"], pm).json()
    assert body["status"] == "processing"
    assert db_intent(pi["id"]).processing_resolve_at is not None
    assert Event.objects.filter(object_id=pi["id"], type="payment_intent.processing").exists()


def test_processing_resolves_to_success(client, create_intent, settings):
    settings.SIMULATED_PROCESSING_DELAY_SECONDS = 0
    pi = create_intent()
    confirm(client, pi["id"], "pm_card_processing")
    assert payment_intents_resolve_due() == 1
    assert db_intent(pi["id"]).status == "succeeded"
    assert db_intent(pi["id"]).amount_received == 2000


def test_processing_declined_resolves_to_requires_payment_method(client, create_intent, settings):
    settings.SIMULATED_PROCESSING_DELAY_SECONDS = 0
    pi = create_intent()
    confirm(client, pi["id"], "pm_card_processingDeclined")
    payment_intents_resolve_due()
    intent = db_intent(pi["id"])
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error["code"] == "card_declined"
    assert Event.objects.filter(object_id=pi["id"], type="payment_intent.payment_failed").exists()


def test_processing_is_not_resolved_before_its_delay(client, create_intent, settings):
    settings.SIMULATED_PROCESSING_DELAY_SECONDS = 3600
    pi = create_intent()
    confirm(client, pi["id"], "pm_card_processing")
    assert payment_intents_resolve_due() == 0
    assert db_intent(pi["id"]).status == "processing"


def test_processing_with_manual_capture_resolves_to_requires_capture(
    client, create_intent, settings
):
    settings.SIMULATED_PROCESSING_DELAY_SECONDS = 0
    pi = create_intent(capture_method="manual")
    confirm(client, pi["id"], "pm_card_processing")
    payment_intents_resolve_due()
    intent = db_intent(pi["id"])
    assert intent.status == "requires_capture" and intent.amount_capturable == 2000


# --- attach (PayMongo) ---------------------------------------------------------------------


def test_attach_confirms_with_the_payment_method(client, create_intent):
    pi = create_intent(capture_method="manual")
    r = client.post(
        f"{URL}/{pi['id']}/attach",
        {"payment_method": "pm_card_visa", "client_key": pi["client_secret"]},
    )
    assert r.status_code == 200, r
    assert r.json()["status"] == "requires_capture"


def test_attach_with_publishable_key_needs_the_client_key(client, create_intent, acct):
    pi = create_intent()
    r = client.post(f"{URL}/{pi['id']}/attach", {"payment_method": "pm_card_visa"}, key=acct.pk)
    assert r.status_code == 400
    assert r.error["param"] == "client_secret"
    r = client.post(
        f"{URL}/{pi['id']}/attach",
        {"payment_method": "pm_card_visa", "client_key": pi["client_secret"]},
        key=acct.pk,
    )
    assert r.status_code == 200
    assert r.json()["status"] == "succeeded"
    assert "amount_received" not in r.json()


# --- capture ---------------------------------------------------------------------------------


def test_capture_moves_requires_capture_to_succeeded(client, confirmed):
    pi = confirmed().json()
    r = client.post(f"{URL}/{pi['id']}/capture")
    body = r.json()
    assert body["status"] == "succeeded"
    assert body["amount_received"] == 2000 and body["amount_capturable"] == 0
    charge = Charge.objects.get(id=body["latest_charge"])
    assert charge.captured and charge.amount_captured == 2000
    assert _capture_events(charge) == ["charge.captured"]  # a separate capture: Stripe's event
    assert Event.objects.filter(object_id=pi["id"], type="payment_intent.succeeded").exists()


def test_capturing_twice_is_unexpected_state(client, confirmed):
    pi = confirmed().json()
    client.post(f"{URL}/{pi['id']}/capture")
    r = client.post(f"{URL}/{pi['id']}/capture")
    assert r.status_code == 400
    assert r.error["code"] == "payment_intent_unexpected_state"
    assert r.error["message"] == (
        "This PaymentIntent could not be captured because it has a status of succeeded. "
        "Only a PaymentIntent with one of the following statuses may be captured: "
        "requires_capture."
    )


def test_capturing_more_than_capturable_is_rejected(client, confirmed):
    pi = confirmed().json()
    r = client.post(f"{URL}/{pi['id']}/capture", {"amount_to_capture": 2001})
    assert r.status_code == 400
    # refused for what the intent has to capture, not for the request alone
    assert r.error["code"] == "amount_too_large_for_object"
    assert r.error["param"] == "amount_to_capture"
    assert db_intent(pi["id"]).status == "requires_capture"


def test_partial_capture_releases_the_rest(client, confirmed):
    pi = confirmed().json()
    body = client.post(f"{URL}/{pi['id']}/capture", {"amount_to_capture": 1500}).json()
    assert body["status"] == "succeeded"
    assert body["amount_received"] == 1500 and body["amount_capturable"] == 0
    charge = Charge.objects.get(id=body["latest_charge"])
    assert charge.amount_captured == 1500 and charge.released and not charge.authorized


def test_capture_before_confirm_is_unexpected_state(client, create_intent):
    pi = create_intent(capture_method="manual")
    r = client.post(f"{URL}/{pi['id']}/capture")
    assert r.error["code"] == "payment_intent_unexpected_state"
    assert "requires_payment_method" in r.error["message"]


# --- cancel ----------------------------------------------------------------------------------


def _intent_in(status, client, create_intent, settings):
    settings.SIMULATED_PROCESSING_DELAY_SECONDS = 3600
    if status == "requires_payment_method":
        return create_intent()
    if status == "requires_confirmation":
        return create_intent(payment_method="pm_card_visa")
    pm = {
        "requires_action": "pm_card_authenticationRequired",
        "requires_capture": "pm_card_visa",
        "processing": "pm_card_processing",
    }[status]
    pi = create_intent(capture_method="manual")
    body = confirm(client, pi["id"], pm).json()
    assert body["status"] == status
    return body


@pytest.mark.parametrize(
    "status",
    [
        "requires_payment_method",
        "requires_confirmation",
        "requires_action",
        "requires_capture",
        "processing",
    ],
)
def test_cancel_from_each_cancelable_status(client, create_intent, settings, status):
    pi = _intent_in(status, client, create_intent, settings)
    r = client.post(f"{URL}/{pi['id']}/cancel", {"cancellation_reason": "requested_by_customer"})
    assert r.status_code == 200, r
    body = r.json()
    assert body["status"] == "canceled"
    assert body["cancellation_reason"] == "requested_by_customer"
    assert body["canceled_at"] is not None
    assert body["amount_capturable"] == 0
    assert Event.objects.filter(object_id=pi["id"], type="payment_intent.canceled").exists()


def test_cancel_releases_an_uncaptured_authorisation(client, confirmed):
    pi = confirmed().json()
    client.post(f"{URL}/{pi['id']}/cancel")
    charge = Charge.objects.get(id=pi["latest_charge"])
    assert charge.released and not charge.authorized and not charge.captured


def test_cancelling_a_succeeded_intent_is_unexpected_state(client, create_intent):
    pi = create_intent(payment_method="pm_card_visa", confirm=True)
    r = client.post(f"{URL}/{pi['id']}/cancel")
    assert r.status_code == 400
    assert r.error["code"] == "payment_intent_unexpected_state"
    assert r.error["payment_intent"]["status"] == "succeeded"


def test_cancellation_reason_outside_the_enum_is_rejected(client, create_intent):
    pi = create_intent()
    r = client.post(f"{URL}/{pi['id']}/cancel", {"cancellation_reason": "expired"})
    assert r.status_code == 400
    assert r.error["param"] == "cancellation_reason"
    assert db_intent(pi["id"]).status == "requires_payment_method"


# --- increment_authorization -------------------------------------------------------------------


def test_increment_authorization_raises_amount_and_stays_requires_capture(client, confirmed):
    pi = confirmed().json()
    r = client.post(f"{URL}/{pi['id']}/increment_authorization", {"amount": 2500})
    body = r.json()
    assert body["status"] == "requires_capture"
    assert body["amount"] == 2500 and body["amount_capturable"] == 2500


def test_increment_authorization_with_metadata_cleared_clears_it(client, confirmed):
    """`metadata=""` (remove every key) on an increment: found by schemathesis as a 500 (the
    attempt's recorded params could not hold the clear patch)."""
    pi = confirmed(metadata={"order": "42"}).json()
    r = client.post(f"{URL}/{pi['id']}/increment_authorization", {"amount": 2500, "metadata": ""})
    assert r.status_code == 200, r.content
    assert r.json()["metadata"] == {} and r.json()["amount"] == 2500
    assert db_intent(pi["id"]).metadata == {}


def test_increment_authorization_to_a_smaller_amount_is_rejected(client, confirmed):
    pi = confirmed().json()
    r = client.post(f"{URL}/{pi['id']}/increment_authorization", {"amount": 1000})
    assert r.status_code == 400
    assert r.error["param"] == "amount"
    # refused for the intent's current amount, not for the request alone
    assert r.error["code"] == "amount_too_small_for_object"


def test_increment_authorization_below_the_currency_minimum_is_amount_too_small(client, confirmed):
    pi = confirmed().json()
    r = client.post(f"{URL}/{pi['id']}/increment_authorization", {"amount": 10})
    assert r.status_code == 400
    # the minimum is that of the intent's currency, which the request does not give
    assert (r.error["code"], r.error["param"]) == ("amount_too_small_for_object", "amount")
    r = client.post(f"{URL}/{pi['id']}/increment_authorization", {"amount": 100_000_000})
    assert (r.error["code"], r.error["param"]) == ("amount_too_large", "amount")


def test_increment_authorization_outside_requires_capture_is_unexpected_state(
    client, create_intent
):
    pi = create_intent()
    r = client.post(f"{URL}/{pi['id']}/increment_authorization", {"amount": 3000})
    assert r.error["code"] == "payment_intent_unexpected_state"


# --- update ----------------------------------------------------------------------------------


def test_updating_amount_in_requires_capture_is_unexpected_state(client, confirmed):
    pi = confirmed().json()
    r = client.post(f"{URL}/{pi['id']}", {"amount": 5000})
    assert r.status_code == 400
    assert r.error["code"] == "payment_intent_unexpected_state"
    assert r.error["param"] == "amount"
    assert db_intent(pi["id"]).amount == 2000


def test_updating_metadata_in_requires_capture_and_succeeded_is_allowed(client, confirmed):
    pi = confirmed().json()
    r = client.post(f"{URL}/{pi['id']}", {"metadata": {"order": "1"}})
    assert r.json()["metadata"] == {"order": "1"}
    client.post(f"{URL}/{pi['id']}/capture")
    r = client.post(f"{URL}/{pi['id']}", {"description": "done"})
    assert r.json()["description"] == "done"


def test_updating_in_processing_is_unexpected_state(client, create_intent, settings):
    pi = _intent_in("processing", client, create_intent, settings)
    r = client.post(f"{URL}/{pi['id']}", {"metadata": {"a": "b"}})
    assert r.error["code"] == "payment_intent_unexpected_state"


def test_update_with_new_payment_method_moves_to_requires_confirmation(client, create_intent):
    pi = create_intent()
    r = client.post(f"{URL}/{pi['id']}", {"payment_method": "pm_card_visa"})
    assert r.json()["status"] == "requires_confirmation"


def test_update_clears_last_payment_error(client, create_intent):
    pi = create_intent()
    confirm(client, pi["id"], "pm_card_chargeDeclined")
    assert db_intent(pi["id"]).last_payment_error is not None
    r = client.post(f"{URL}/{pi['id']}", {"description": "retry"})
    assert r.json()["last_payment_error"] is None


def test_metadata_merges_and_empty_value_removes_a_key(client, create_intent):
    pi = create_intent(metadata={"a": "1", "b": "2"})
    r = client.post(f"{URL}/{pi['id']}", {"metadata": {"b": "", "c": "3"}})
    assert r.json()["metadata"] == {"a": "1", "c": "3"}


def test_metadata_empty_string_removes_all(client, create_intent):
    pi = create_intent(metadata={"a": "1"})
    r = client.post(f"{URL}/{pi['id']}", {"metadata": ""})
    assert r.json()["metadata"] == {}


def test_update_amount_is_validated_for_the_currency(client, create_intent):
    pi = create_intent()
    r = client.post(f"{URL}/{pi['id']}", {"amount": 10})
    # checked against the currency the intent keeps: the code says the refusal is the object's
    assert r.error["code"] == "amount_too_small_for_object"
    assert db_intent(pi["id"]).amount == 2000


# --- system transitions -----------------------------------------------------------------------


def test_expired_authorisation_is_expired_on_read(client, confirmed, settings):
    pi = confirmed().json()
    settings.AUTHORIZATION_EXPIRY_SECONDS = 0
    body = client.get(f"{URL}/{pi['id']}").json()
    assert body["status"] == "canceled"
    assert body["cancellation_reason"] == "expired"
    assert body["amount_capturable"] == 0


def test_a_read_shows_an_overdue_authorisation_expired_without_writing_it(
    client, confirmed, settings
):
    pi = confirmed().json()
    settings.AUTHORIZATION_EXPIRY_SECONDS = 0
    body = client.get(f"{URL}/{pi['id']}").json()
    assert body["status"] == "canceled" and body["cancellation_reason"] == "expired"
    stored = db_intent(pi["id"])
    assert stored.status == "requires_capture" and stored.amount_capturable == 2000
    assert body["canceled_at"] == int(stored.expires_at.timestamp())
    listed = client.get(URL).json()["data"]
    assert [row["status"] for row in listed if row["id"] == pi["id"]] == ["canceled"]


def test_the_expiry_sweep_writes_what_a_read_showed(client, confirmed, settings):
    pi = confirmed().json()
    settings.AUTHORIZATION_EXPIRY_SECONDS = 0
    shown = client.get(f"{URL}/{pi['id']}").json()
    assert payment_intents_expire_due() == 1
    assert client.get(f"{URL}/{pi['id']}").json() == shown
    event = Event.objects.get(object_id=pi["id"], type="payment_intent.canceled")
    assert event.data["previous_attributes"]["status"] == "requires_capture"
    assert event.data["object"]["canceled_at"] == shown["canceled_at"]


def test_capturing_an_expired_authorisation_is_unexpected_state(client, confirmed, settings):
    pi = confirmed().json()
    settings.AUTHORIZATION_EXPIRY_SECONDS = 0
    r = client.post(f"{URL}/{pi['id']}/capture")
    assert r.error["code"] == "payment_intent_unexpected_state"
    assert db_intent(pi["id"]).cancellation_reason == "expired"


def test_expiry_sweep_cancels_old_authorisations_only(client, confirmed, settings):
    old = confirmed().json()
    settings.AUTHORIZATION_EXPIRY_SECONDS = 0
    assert payment_intents_expire_due() == 1
    settings.AUTHORIZATION_EXPIRY_SECONDS = 3600
    fresh = confirmed().json()
    assert payment_intents_expire_due() == 0
    assert db_intent(old["id"]).status == "canceled"
    assert db_intent(fresh["id"]).status == "requires_capture"
    assert Event.objects.filter(object_id=old["id"], type="payment_intent.canceled").count() == 1


def test_abandonment_sweep_cancels_untouched_intents(create_intent, settings):
    pi = create_intent()
    settings.ABANDONMENT_SECONDS = 0
    assert payment_intents_abandon_stale() == 1
    intent = db_intent(pi["id"])
    assert intent.status == "canceled" and intent.cancellation_reason == "abandoned"
    assert payment_intents_abandon_stale() == 0


def test_abandonment_sweep_leaves_recent_intents(create_intent, settings):
    settings.ABANDONMENT_SECONDS = 3600
    pi = create_intent()
    assert payment_intents_abandon_stale() == 0
    assert db_intent(pi["id"]).status == "requires_payment_method"


# --- money invariants ------------------------------------------------------------------------


def test_terminal_intents_never_have_both_capturable_and_received(client, confirmed):
    pi = confirmed().json()
    client.post(f"{URL}/{pi['id']}/capture", {"amount_to_capture": 700})
    intent = db_intent(pi["id"])
    assert intent.amount_received <= intent.amount
    assert intent.amount_capturable == 0
