"""The official `stripe` Python library against a live server, changing only the API base URL.

These tests know nothing about the implementation: they drive the service the way a merchant's
code would, through `stripe.StripeClient` (and once through the module-level configuration),
and check what the library hands back and raises.
"""

from __future__ import annotations

import pytest
import stripe

from tests.conftest import make_account

pytestmark = pytest.mark.django_db(transaction=True)

RETURN_URL = "https://shop.example.com/return"


@pytest.fixture
def keys(transactional_db):
    return make_account("Contract Co")


@pytest.fixture
def client(live_server, keys) -> stripe.StripeClient:
    return stripe.StripeClient(
        keys.sk, base_addresses={"api": live_server.url}, max_network_retries=0
    )


@pytest.fixture
def global_stripe(live_server, keys, monkeypatch):
    """The module-level style (`stripe.api_key = …`) most integrations use."""
    monkeypatch.setattr(stripe, "api_key", keys.sk)
    monkeypatch.setattr(stripe, "api_base", live_server.url)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    return stripe


def create(client: stripe.StripeClient, **params) -> stripe.PaymentIntent:
    params.setdefault("amount", 2000)
    params.setdefault("currency", "usd")
    return client.v1.payment_intents.create(params=params)


# --- the lifecycle ------------------------------------------------------------------------------


def test_create_answers_a_payment_intent_object(client):
    intent = create(client, amount=1234)
    assert isinstance(intent, stripe.PaymentIntent)
    assert intent.id.startswith("pi_")
    assert intent.object == "payment_intent"
    assert intent.amount == 1234
    assert intent.currency == "usd"
    assert intent.status == "requires_payment_method"
    assert intent.livemode is False
    assert isinstance(intent.created, int)
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert intent.last_response.request_id.startswith("req_")


def test_create_confirm_capture_with_manual_capture(client):
    intent = create(client, amount=2000, capture_method="manual")
    confirmed = client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": "pm_card_visa"}
    )
    assert confirmed.status == "requires_capture"
    assert confirmed.amount_capturable == 2000
    assert confirmed.amount_received == 0

    captured = client.v1.payment_intents.capture(intent.id)
    assert captured.status == "succeeded"
    assert captured.amount_received == 2000
    assert captured.amount_capturable == 0


def test_partial_capture_releases_the_rest(client):
    intent = create(client, amount=3000, capture_method="manual")
    client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    captured = client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 1000})
    assert captured.status == "succeeded"
    assert captured.amount_received == 1000
    assert captured.amount_capturable == 0


def test_create_with_confirm_true_succeeds_with_automatic_capture(client):
    intent = create(client, confirm=True, payment_method="pm_card_visa")
    assert intent.status == "succeeded"
    assert intent.amount_received == 2000


def test_decline_raises_card_error_with_decline_code_and_intent(client):
    intent = create(client)
    with pytest.raises(stripe.CardError) as info:
        client.v1.payment_intents.confirm(
            intent.id, params={"payment_method": "pm_card_chargeDeclinedInsufficientFunds"}
        )
    error = info.value
    assert error.http_status == 402
    assert error.code == "card_declined"
    assert error.error.decline_code == "insufficient_funds"
    assert error.error.type == "card_error"
    assert error.error.payment_intent is not None
    assert error.error.payment_intent.id == intent.id
    assert error.error.payment_intent.status == "requires_payment_method"
    assert error.request_id.startswith("req_")


def test_decline_is_recorded_as_last_payment_error(client):
    intent = create(client)
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(
            intent.id, params={"payment_method": "pm_card_chargeDeclined"}
        )
    again = client.v1.payment_intents.retrieve(intent.id)
    assert again.status == "requires_payment_method"
    assert again.last_payment_error.code == "card_declined"
    assert again.last_payment_error.decline_code == "generic_decline"


def test_three_d_secure_stops_at_requires_action_with_redirect(client):
    intent = create(client)
    confirmed = client.v1.payment_intents.confirm(
        intent.id,
        params={"payment_method": "pm_card_authenticationRequired", "return_url": RETURN_URL},
    )
    assert confirmed.status == "requires_action"
    assert confirmed.next_action.type == "redirect_to_url"
    assert confirmed.next_action.redirect_to_url.url.startswith(("http://", "https://"))
    assert confirmed.next_action.redirect_to_url.return_url == RETURN_URL


def test_cancel_with_reason(client):
    intent = create(client)
    canceled = client.v1.payment_intents.cancel(
        intent.id, params={"cancellation_reason": "requested_by_customer"}
    )
    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "requested_by_customer"
    assert isinstance(canceled.canceled_at, int)


def test_capture_in_wrong_state_raises_invalid_request_error(client):
    intent = create(client)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.capture(intent.id)
    assert info.value.http_status == 400
    assert info.value.code == "payment_intent_unexpected_state"
    assert info.value.error.payment_intent.id == intent.id


# --- lists and search ---------------------------------------------------------------------------


def test_auto_paging_iter_walks_every_page_once_newest_first(client):
    created = [create(client, amount=1000 + n).id for n in range(7)]
    page = client.v1.payment_intents.list(params={"limit": 3})
    assert len(page.data) == 3
    assert page.has_more is True
    seen = [intent.id for intent in page.auto_paging_iter()]
    assert seen == list(reversed(created))


def test_search_with_module_level_configuration(global_stripe, client):
    hit = create(client, amount=2500, confirm=True, payment_method="pm_card_visa")
    create(client, amount=500, confirm=True, payment_method="pm_card_visa")
    create(client, amount=5000)
    result = global_stripe.PaymentIntent.search(query="status:'succeeded' AND amount>1000")
    assert result.object == "search_result"
    assert [intent.id for intent in result.data] == [hit.id]
    assert result.has_more is False


def test_search_auto_paging_iter_follows_next_page(client):
    created = [create(client, metadata={"batch": "b1"}).id for _ in range(5)]
    create(client, metadata={"batch": "b2"})
    result = client.v1.payment_intents.search(
        params={"query": "metadata['batch']:'b1'", "limit": 2}
    )
    assert len(result.data) == 2
    assert result.has_more is True
    assert result.next_page
    seen = [intent.id for intent in result.auto_paging_iter()]
    assert sorted(seen) == sorted(created)
    assert len(seen) == len(set(seen))


def test_malformed_search_query_raises_invalid_request_error(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.search(params={"query": "status:'succeeded' AND"})
    assert info.value.http_status == 400
    assert info.value.param == "query"
    assert "position" in info.value.user_message


# --- parameters ---------------------------------------------------------------------------------


def test_metadata_round_trip_and_merge(client):
    intent = create(client, metadata={"order_id": "42", "note": "héllo wörld"})
    assert client.v1.payment_intents.retrieve(intent.id).metadata.to_dict() == {
        "order_id": "42",
        "note": "héllo wörld",
    }
    updated = client.v1.payment_intents.update(
        intent.id, params={"metadata": {"note": "", "ship": "express"}}
    )
    assert updated.metadata.to_dict() == {"order_id": "42", "ship": "express"}


def test_unknown_param_raises_invalid_request_error_naming_it(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "usd", "colour": "red"}  # type: ignore[typeddict-unknown-key]
        )
    assert info.value.http_status == 400
    assert info.value.code == "parameter_unknown"
    assert info.value.param == "colour"


def test_missing_amount_raises_parameter_missing(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params={"currency": "usd"})  # type: ignore[typeddict-item]
    assert info.value.code == "parameter_missing"
    assert info.value.param == "amount"


def test_unknown_intent_raises_resource_missing(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.retrieve("pi_doesnotexist")
    assert info.value.http_status == 404
    assert info.value.code == "resource_missing"
    assert info.value.param == "id"


def test_expand_latest_charge(client):
    intent = create(client, confirm=True, payment_method="pm_card_visa")
    expanded = client.v1.payment_intents.retrieve(intent.id, params={"expand": ["latest_charge"]})
    assert isinstance(expanded.latest_charge, stripe.Charge)
    assert expanded.latest_charge.id.startswith("ch_")
    assert expanded.latest_charge.amount == 2000
    assert expanded.latest_charge.payment_intent == intent.id
    plain = client.v1.payment_intents.retrieve(intent.id)
    assert plain.latest_charge == expanded.latest_charge.id


def test_idempotency_key_replays_the_create(client):
    options = {"idempotency_key": "contract-create-1"}
    first = client.v1.payment_intents.create(
        params={"amount": 1500, "currency": "usd"}, options=options
    )
    second = client.v1.payment_intents.create(
        params={"amount": 1500, "currency": "usd"}, options=options
    )
    assert second.id == first.id
    assert second.last_response.headers.get("Idempotent-Replayed") == "true"


# --- keys ---------------------------------------------------------------------------------------


def test_retrieve_with_publishable_key_and_client_secret(client, keys):
    intent = create(client, metadata={"secret": "hidden"})
    seen = client.v1.payment_intents.retrieve(
        intent.id,
        params={"client_secret": intent.client_secret},
        options={"api_key": keys.pk},
    )
    assert seen.id == intent.id
    assert seen.status == "requires_payment_method"
    assert seen.amount == 2000
    assert "metadata" not in seen
    assert "amount_received" not in seen


def test_publishable_key_cannot_list(client, keys):
    with pytest.raises(stripe.PermissionError) as info:
        client.v1.payment_intents.list(options={"api_key": keys.pk})
    assert info.value.http_status == 403
    # the library does not copy `code` onto PermissionError; it is on the error object
    assert info.value.error.code == "secret_key_required"


def test_bad_key_raises_authentication_error(live_server):
    bad = stripe.StripeClient(
        "sk_test_notarealkey", base_addresses={"api": live_server.url}, max_network_retries=0
    )
    with pytest.raises(stripe.AuthenticationError) as info:
        bad.v1.payment_intents.list()
    assert info.value.http_status == 401


# --- more of the surface a merchant integration touches -----------------------------------------


def test_amount_below_minimum_raises_amount_too_small(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        create(client, amount=10, currency="usd")
    assert info.value.code == "amount_too_small"
    assert info.value.param == "amount"


def test_update_with_payment_method_then_confirm(client):
    intent = create(client)
    updated = client.v1.payment_intents.update(intent.id, params={"payment_method": "pm_card_visa"})
    assert updated.status == "requires_confirmation"
    assert updated.payment_method.startswith("pm_")
    confirmed = client.v1.payment_intents.confirm(intent.id)
    assert confirmed.status == "succeeded"


def test_increment_authorization_raises_the_amount(client):
    intent = create(client, amount=2000, capture_method="manual")
    client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    incremented = client.v1.payment_intents.increment_authorization(
        intent.id, params={"amount": 3000}
    )
    assert incremented.status == "requires_capture"
    assert incremented.amount == 3000
    assert incremented.amount_capturable == 3000


def test_list_expands_with_data_prefix(client):
    create(client, confirm=True, payment_method="pm_card_visa")
    page = client.v1.payment_intents.list(params={"limit": 1, "expand": ["data.latest_charge"]})
    assert isinstance(page.data[0].latest_charge, stripe.Charge)
    assert page.data[0].latest_charge.object == "charge"


def test_confirm_with_publishable_key_and_client_secret(client, keys):
    intent = create(client, metadata={"secret": "hidden"})
    confirmed = client.v1.payment_intents.confirm(
        intent.id,
        params={"payment_method": "pm_card_visa", "client_secret": intent.client_secret},
        options={"api_key": keys.pk},
    )
    assert confirmed.status == "succeeded"
    assert "metadata" not in confirmed


def test_publishable_key_with_wrong_client_secret_is_refused(client, keys):
    intent = create(client)
    other = create(client)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.retrieve(
            intent.id,
            params={"client_secret": other.client_secret},
            options={"api_key": keys.pk},
        )
    assert info.value.http_status in (400, 404)


def test_form_encoding_of_nested_params_round_trips(client):
    intent = create(
        client,
        payment_method_types=["card"],
        shipping={
            "name": "Jenny Rosen",
            "address": {"line1": "1 Main St", "city": "Springfield", "country": "US"},
        },
        description="A café order",
    )
    again = client.v1.payment_intents.retrieve(intent.id)
    assert again.payment_method_types == ["card"]
    assert again.shipping.name == "Jenny Rosen"
    assert again.shipping.address.line1 == "1 Main St"
    assert again.description == "A café order"


# --- refunds ------------------------------------------------------------------------------------


def _paid(client: stripe.StripeClient, amount: int = 2000, pm: str = "pm_card_visa"):
    return create(
        client, amount=amount, payment_method=pm, confirm=True, capture_method="automatic"
    )


def test_refund_create_retrieve_modify_list_with_the_client(client):
    intent = _paid(client, 2000)
    refund = client.v1.refunds.create(
        params={"payment_intent": intent.id, "amount": 500, "metadata": {"ticket": "7"}}
    )
    assert isinstance(refund, stripe.Refund)
    assert refund.id.startswith("re_")
    assert (refund.amount, refund.status, refund.charge) == (500, "succeeded", intent.latest_charge)
    assert client.v1.refunds.retrieve(refund.id).metadata == {"ticket": "7"}
    modified = client.v1.refunds.update(refund.id, params={"metadata": {"ticket": "8"}})
    assert modified.metadata == {"ticket": "8"}
    second = client.v1.refunds.create(params={"charge": intent.latest_charge})
    assert second.amount == 1500
    listed = client.v1.refunds.list(params={"payment_intent": intent.id})
    assert [r.id for r in listed.data] == [second.id, refund.id]
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (2000, True)
    assert charge.refunds.total_count == 2


def test_over_refund_raises_invalid_request_error(client):
    intent = _paid(client, 1000)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1001})
    assert raised.value.code == "amount_too_large"
    assert raised.value.param == "amount"
    assert raised.value.http_status == 400


def test_refund_module_level_create_retrieve_modify_list_cancel(global_stripe, client):
    intent = _paid(client, 1000, pm="pm_card_refundFail")
    refund = stripe.Refund.create(payment_intent=intent.id, amount=300)
    assert refund.status == "pending"
    assert stripe.Refund.retrieve(refund.id).amount == 300
    assert stripe.Refund.modify(refund.id, metadata={"a": "1"}).metadata == {"a": "1"}
    assert [r.id for r in stripe.Refund.list(charge=intent.latest_charge).auto_paging_iter()] == [
        refund.id
    ]
    canceled = stripe.Refund.cancel(refund.id)
    assert canceled.status == "canceled"
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Refund.cancel(refund.id)
    # the canceled amount is refundable again
    assert stripe.Refund.create(payment_intent=intent.id).amount == 1000


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_refund_with_the_clients_older_namespace(client):
    """`client.refunds` (before the library's `v1` namespace) reaches the same routes."""
    intent = _paid(client, 1000)
    refund = client.refunds.create(params={"payment_intent": intent.id, "amount": 100})
    assert client.refunds.retrieve(refund.id).status == "succeeded"


def test_refund_cancel_with_the_client(client):
    intent = _paid(client, 1000, pm="pm_card_refundFail")
    refund = client.v1.refunds.create(params={"payment_intent": intent.id})
    assert client.v1.refunds.cancel(refund.id).status == "canceled"
