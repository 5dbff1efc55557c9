"""The official `payload-api` library (0.5.1), unmodified, against a live server: only
`pl.api_url` is set (to `<base>/payload/`, with the trailing slash its `urljoin` needs) and
`pl.api_key`. Every intent type the service honours is created through it and paid (or its
card saved) on the hosted page in headless Chromium until the library reads it `finished`;
customers, cards, payments, captures, voids, refunds and webhooks go through it too."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

import payload as pl
import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from checkout_pages.models import CheckoutIntent
from tests.checkout_pages.test_browser import Merchant, fill, wait_url
from tests.conftest import make_account
from tests.faces.conftest import deliver_everything
from tests.helpers import StripeTestClient

pytestmark = pytest.mark.django_db(transaction=True)

TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


@pytest.fixture
def keys(transactional_db):
    return make_account("Payload Co")


@pytest.fixture
def lib(live_server, keys, monkeypatch):
    monkeypatch.setattr(pl, "api_url", f"{live_server.url}/payload/")
    monkeypatch.setattr(pl, "api_key", keys.sk)
    return pl


@pytest.fixture
def merchant(live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    shop = Merchant()
    shop.live = live_server.url
    shop.thread.start()
    yield shop
    shop.server.shutdown()


def page_intent(merchant, **changes):
    settings = {
        "amount": 561.31,
        "description": "Annual plan",
        "redirects": {
            "completed_url": f"{merchant.origin}/done",
            "return_url": f"{merchant.origin}/cart",
        },
        **changes,
    }
    return pl.Intent.create(type="checkout_page", checkout_page=settings)


def finished_url(merchant, intent) -> str:
    engine_id = "cint_" + intent.id.removeprefix("int_")
    return f"{merchant.origin}/done?checkout_intent={engine_id}&status=finished"


def test_create_answers_the_seed_intent_shape(lib, merchant):
    intent = page_intent(merchant)
    assert isinstance(intent, pl.Intent)
    assert intent.id.startswith("int_")
    assert intent.object == "intent"
    assert intent.status == "pending"
    assert intent.type == "checkout_page"
    assert intent.checkout_page.amount == 561.31
    assert intent.checkout_page.status == "processed"
    assert intent.checkout_page.redirects.completed_url == f"{merchant.origin}/done"
    assert intent.client_token_id and intent.client_token.id == intent.client_token_id
    assert TIME.match(intent.created_at) and TIME.match(intent.modified_at)
    assert intent.attrs == {}
    stored = CheckoutIntent.objects.get(id="cint_" + intent.id.removeprefix("int_"))
    assert stored.amount == 56131 and stored.currency == "usd"
    # read back: the token is shown only when issued
    again = pl.Intent.get(intent.id)
    assert again.client_token_id is None and again.checkout_page.amount == 561.31


def test_checkout_page_is_paid_in_the_browser_until_finished(lib, merchant, browser, live_server):
    intent = page_intent(merchant, status="authorized")
    browser.get(f"{live_server.url}/checkout/{intent.client_token_id}")
    fill(browser)
    browser.find_element(By.ID, "pay").click()
    assert wait_url(browser, f"{merchant.origin}/done") == finished_url(merchant, intent)
    assert pl.Intent.get(intent.id).status == "finished"
    [payment] = pl.Transaction.filter_by(type="payment").all()
    assert payment.amount == 561.31
    assert payment.status == "authorized"  # `authorized`: captured later, by the merchant


def test_checkout_plugin_in_the_merchants_frame_is_paid_until_finished(lib, merchant, browser):
    intent = pl.Intent.create(
        type="checkout_plugin",
        checkout_plugin={"amount": 12.5, "description": "Socks", "order_number": "A-17"},
        allowed_origins=[merchant.origin],
        attrs={"cart": "c-1"},
    )
    assert intent.checkout_plugin.order_number == "A-17"
    assert intent.attrs == {"cart": "c-1"}
    browser.get(f"{merchant.origin}/shop?token={intent.client_token_id}")
    frame = WebDriverWait(browser, 20).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "[data-payintents-modal] iframe"))
    )
    browser.switch_to.frame(frame)
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "checkout-form")))
    fill(browser)
    browser.find_element(By.ID, "pay").click()
    browser.switch_to.default_content()
    WebDriverWait(browser, 20).until(lambda d: pl.Intent.get(intent.id).status == "finished")
    [payment] = pl.Transaction.filter_by(type="payment").all()
    assert (payment.amount, payment.status) == (12.5, "processed")


def test_payment_form_is_paid_until_finished(lib, merchant, browser, live_server):
    intent = pl.Intent.create(
        type="payment_form",
        payment_form={"payment": {"amount": 30, "description": "Gift card"}},
        allowed_origins=[merchant.origin],
    )
    assert intent.payment_form.payment.amount == 30
    browser.get(f"{live_server.url}/checkout/{intent.client_token_id}")
    fill(browser)
    browser.find_element(By.ID, "pay").click()
    WebDriverWait(browser, 20).until(lambda d: pl.Intent.get(intent.id).status == "finished")
    assert [t.amount for t in pl.Transaction.filter_by(type="payment").all()] == [30]


def test_payment_method_form_saves_the_card_until_finished(
    lib, keys, merchant, browser, live_server
):
    customer = StripeTestClient(key=keys.sk).post("/v1/customers", {"email": "j@example.com"})
    customer_id = customer.json()["id"]
    intent = pl.Intent.create(
        type="payment_method_form",
        payment_method_form={"payment_method": {"customer_id": customer_id}},
        allowed_origins=[merchant.origin],
    )
    browser.get(f"{live_server.url}/checkout/{intent.client_token_id}")
    fill(browser, "5555 5555 5555 4444")
    browser.find_element(By.ID, "pay").click()
    WebDriverWait(browser, 20).until(lambda d: pl.Intent.get(intent.id).status == "finished")
    done = pl.Intent.get(intent.id)
    assert done.payment_method_id.startswith("pm_")
    assert done.payment_method_form.payment_method.customer_id == customer_id
    assert pl.Transaction.all() == []


@pytest.mark.parametrize("type", ["processing_account_plugin", "oauth_client_token"])
def test_types_this_service_cannot_honour_are_refused_by_name(lib, type):
    with pytest.raises(pl.InvalidAttributes) as info:
        pl.Intent.create(type=type)
    assert type in str(info.value)
    assert info.value.details == {"type": info.value.response["error_description"]}
    assert pl.Intent.all() == []


def test_more_than_two_decimals_is_refused_naming_the_attribute(lib, merchant):
    with pytest.raises(pl.InvalidAttributes) as info:
        page_intent(merchant, amount=1.005)
    assert "amount" in info.value.details["checkout_page"]
    assert not CheckoutIntent.objects.exists()


def test_a_feature_not_offered_is_refused_not_ignored(lib, merchant):
    with pytest.raises(pl.InvalidAttributes) as info:
        page_intent(merchant, bank_account_payments=True)
    assert "bank_account_payments" in info.value.details["checkout_page"]
    assert not CheckoutIntent.objects.exists()


def test_lists_filter_limit_offset_and_fields(lib, merchant):
    made = [page_intent(merchant, amount=10 + n).id for n in range(3)]
    pl.Intent.create(
        type="payment_form", payment_form={"payment": {"amount": 5}}, allowed_origins=[]
    )
    pages = pl.Intent.filter_by(type="checkout_page").limit(2).all()
    assert [i.id for i in pages] == [made[2], made[1]]
    rest = pl.Intent.filter_by(type="checkout_page").limit(2).offset(2).all()
    assert [i.id for i in rest] == [made[0]]
    [only] = pl.Intent.select("id", "status").filter_by(type="checkout_page").limit(1).all()
    assert isinstance(only, pl.Intent)
    assert only.data() == {"id": made[2], "object": "intent", "status": "pending"}


def test_unknown_id_and_bad_key(lib, monkeypatch):
    with pytest.raises(pl.NotFound):
        pl.Intent.get("int_doesnotexist")
    monkeypatch.setattr(pl, "api_key", "sk_test_notakey000000000000")
    with pytest.raises(pl.Unauthorized):
        pl.Intent.get("int_doesnotexist")


def test_an_intent_made_here_is_the_checkout_intent_the_stripe_dialect_shows(lib, keys, merchant):
    intent = page_intent(merchant)
    engine_id = "cint_" + intent.id.removeprefix("int_")
    shown = StripeTestClient(key=keys.sk).get(f"/v1/checkout_intents/{engine_id}").json()
    assert shown["amount"] == 56131 and shown["currency"] == "usd"
    assert shown["type"] == "checkout_page" and shown["status"] == "pending"


def test_a_new_client_token_replaces_the_old(lib, merchant, live_server):
    intent = page_intent(merchant)
    answer = requests.post(
        f"{live_server.url}/payload/intents/{intent.id}/client_token",
        auth=(pl.api_key, ""),
        timeout=10,
    )
    assert answer.status_code == 200
    token = answer.json()["id"]
    assert token != intent.client_token_id
    assert (
        requests.get(f"{live_server.url}/checkout/{intent.client_token_id}", timeout=10).status_code
        == 404
    )
    assert requests.get(f"{live_server.url}/checkout/{token}", timeout=10).status_code == 200


def test_a_customer_and_its_saved_card_are_read_through_the_library(lib, keys):
    """Made through the library (the customer) and the Stripe dialect (a card attached to it):
    the same `cus_…` and `pm_…`, read back by the library as Payload's objects, the card
    masked to its last four and never more."""
    customer = pl.Customer.create(email="ada@example.com", name="Ada Lovelace", attrs={"n": "1"})
    assert customer.id.startswith("cus_") and customer.object == "customer"
    assert (customer.email, customer.name, customer.attrs) == (
        "ada@example.com",
        "Ada Lovelace",
        {"n": "1"},
    )
    assert TIME.match(customer.created_at) and customer.payment_methods == []
    stripe = StripeTestClient(key=keys.sk)
    assert stripe.get(f"/v1/customers/{customer.id}").json()["name"] == "Ada Lovelace"
    card = stripe.post(
        "/v1/payment_methods",
        {
            "type": "card",
            "card[number]": "4242424242424242",
            "card[exp_month]": "4",
            "card[exp_year]": "2031",
            "card[cvc]": "123",
        },
    ).json()
    stripe.post(f"/v1/payment_methods/{card['id']}/attach", {"customer": customer.id})

    again = pl.Customer.get(customer.id)
    [saved] = again.payment_methods
    assert isinstance(saved, pl.Card)  # nested, built by `type` as well
    assert saved.id == card["id"] and saved.customer_id == customer.id
    method = pl.PaymentMethod.get(card["id"])
    assert isinstance(method, pl.Card)  # the library picks the class by `type`
    # the library reads a card's own attributes from its `card` object (Card.field_map)
    assert method.card_number == "xxxxxxxxxxxx4242" and method.expiry == "04/2031"
    assert method.card["card_brand"] == "visa"
    assert "4242424242424242" not in method.json()
    listed = pl.PaymentMethod.filter_by(customer_id=customer.id).all()
    assert [m.id for m in listed] == [card["id"]]
    assert [c.id for c in pl.Customer.filter_by(email="ada@example.com").all()] == [customer.id]
    assert pl.Customer.filter_by(email="nobody@example.com").all() == []


def test_a_customer_needs_an_email_and_a_name_and_is_never_one_time(lib):
    with pytest.raises(pl.BadRequest) as missing:
        pl.Customer.create(email="ada@example.com")
    assert "name" in str(missing.value)
    with pytest.raises(pl.BadRequest) as once:
        pl.Customer.create(email="ada@example.com", name="Ada", keep_active=False)
    assert "keep_active" in str(once.value)
    assert pl.Customer.all() == []
    with pytest.raises(pl.NotFound):
        pl.Customer.get("cus_doesnotexist")
    with pytest.raises(pl.NotFound):
        pl.PaymentMethod.get("pm_doesnotexist")


def test_an_intent_is_updated_and_deleted_through_the_library(lib, keys, merchant, live_server):
    intent = page_intent(merchant)
    intent.update(checkout_page={"amount": 600.5, "description": "Two-year plan"}, attrs={"a": "b"})
    again = pl.Intent.get(intent.id)
    assert again.checkout_page["amount"] == 600.5
    assert again.checkout_page["description"] == "Two-year plan"
    assert again.checkout_page["redirects"]["completed_url"] == f"{merchant.origin}/done"  # kept
    assert again.attrs == {"a": "b"}
    engine = StripeTestClient(key=keys.sk).get(
        "/v1/checkout_intents/cint_" + intent.id.removeprefix("int_")
    )
    assert engine.json()["amount"] == 60050  # the same object, in cents
    with pytest.raises(pl.BadRequest) as other_type:
        intent.update(type="payment_form")
    assert "type" in str(other_type.value)
    with pytest.raises(pl.BadRequest):
        intent.update(checkout_page={"amount": 1.005})
    assert pl.Intent.get(intent.id).checkout_page["amount"] == 600.5  # nothing changed

    token = intent.client_token_id
    intent.delete()
    assert pl.Intent.get(intent.id).status == "canceled"
    assert requests.get(f"{live_server.url}/checkout/{token}", timeout=10).status_code != 200
    with pytest.raises(pl.BadRequest):
        intent.update(checkout_page={"amount": 700})


# --- cards, payments, captures, voids, refunds ---------------------------------------------------

VISA = "4242 4242 4242 4242"
DECLINED_CARD = "4000000000000002"


def saved_card(customer_id: str | None = None, number: str = VISA, **more):
    return pl.Card.create(
        card_number=number, expiry="12/35", card_code="123", customer_id=customer_id, **more
    )


def test_a_card_saved_for_a_customer_is_authorised_captured_and_refunded(lib, keys):
    customer = pl.Customer.create(name="Jo Bloggs", email="jo@example.com", attrs={"crm": "7"})
    card = saved_card(customer.id, default_payment_method=True)
    assert isinstance(card, pl.Card) and card.customer_id == customer.id
    # the number and code are never kept: the last four, the expiry as MM/YYYY
    assert card.card_number == "xxxxxxxxxxxx4242" and card.expiry == "12/2035"
    assert card.default_payment_method is True
    assert [m.id for m in pl.Customer.get(customer.id).payment_methods] == [card.id]
    payment = pl.Payment.create(
        amount=25.5, payment_method_id=card.id, customer_id=customer.id, status="authorized"
    )
    assert isinstance(payment, pl.Payment)
    assert (payment.amount, payment.status, payment.customer_id) == (
        25.5,
        "authorized",
        customer.id,
    )
    payment.update(status="processed")
    assert payment.status == "processed"  # the client refreshed it from the answer
    assert pl.Payment.get(payment.id).status == "processed"
    refund = pl.Refund.create(amount=10, ledger=[pl.Ledger(assoc_transaction_id=payment.id)])
    assert isinstance(refund, pl.Refund)
    assert (refund.amount, refund.status) == (10, "processed")
    assert [r.id for r in pl.Transaction.filter_by(type="refund").all()] == [refund.id]
    # the same objects in the Stripe dialect
    stripe = StripeTestClient(key=keys.sk)
    pi = stripe.get(f"/v1/payment_intents/{payment.payment_intent_id}").json()
    assert (pi["amount"], pi["amount_received"], pi["status"]) == (2550, 2550, "succeeded")
    assert stripe.get(f"/v1/refunds/{refund.id}").json()["amount"] == 1000
    assert stripe.get(f"/v1/payment_methods/{card.id}").json()["customer"] == customer.id


def test_a_partial_capture_takes_what_it_names(lib, keys):
    held = pl.Payment.create(amount=30, payment_method_id=saved_card().id, status="authorized")
    held.update(status="processed", amount=12.5)
    pi = StripeTestClient(key=keys.sk).get(f"/v1/payment_intents/{held.payment_intent_id}")
    assert pi.json()["amount_received"] == 1250
    captured = pl.Payment.get(held.id)
    assert (captured.status, captured.amount) == ("processed", 12.5)


def test_a_card_given_whole_is_charged_and_a_void_releases_an_authorization(lib):
    paid = pl.Payment.create(
        amount=12, payment_method=pl.Card(card_number=VISA, expiry="12/2035", card_code="123")
    )
    assert (paid.amount, paid.status) == (12, "processed")
    held = pl.Payment.create(amount=7, payment_method_id=saved_card().id, status="authorized")
    held.void()
    assert pl.Payment.get(held.id).status == "voided"
    with pytest.raises(pl.InvalidAttributes):
        held.update(status="processed")  # a voided payment cannot be captured
    assert pl.Payment.get(held.id).status == "voided"


def test_a_declined_card_is_transaction_declined_carrying_the_payment(lib):
    card = saved_card(number=DECLINED_CARD)
    with pytest.raises(pl.TransactionDeclined) as info:
        pl.Payment.create(amount=5, payment_method_id=card.id)
    declined = info.value.transaction
    assert isinstance(declined, pl.Payment)
    assert (declined.status, declined.amount) == ("declined", 5)
    assert pl.Payment.get(declined.id).status == "declined"


def test_a_refund_is_in_its_payments_currency(lib, keys):
    """A payment made in yen through `/v1/` is refunded here in whole yen."""
    stripe = StripeTestClient(key=keys.sk)
    pi = stripe.post(
        "/v1/payment_intents",
        {
            "amount": 1500,
            "currency": "jpy",
            "payment_method": "pm_card_visa",
            "confirm": "true",
            "capture_method": "automatic",
        },
    ).json()
    with pytest.raises(pl.InvalidAttributes) as info:
        pl.Refund.create(amount=10.5, ledger=[pl.Ledger(assoc_transaction_id=pi["latest_charge"])])
    assert "amount" in info.value.details
    refund = pl.Refund.create(
        amount=500, ledger=[pl.Ledger(assoc_transaction_id=pi["latest_charge"])]
    )
    assert stripe.get(f"/v1/refunds/{refund.id}").json()["amount"] == 500


def test_customers_are_updated_and_deleted(lib):
    kept = pl.Customer.create(name="A", email="a@example.com")
    card = saved_card(kept.id)
    kept.update(name="A. Person", phone_number="+1 555 0100", attrs={"tier": "gold"})
    assert kept.name == "A. Person"
    got = pl.Customer.get(kept.id)
    assert (got.name, got.phone_number, got.attrs) == ("A. Person", "+1 555 0100", {"tier": "gold"})
    assert got.email == "a@example.com"  # what was not sent is kept
    kept.delete()
    with pytest.raises(pl.NotFound):
        pl.Customer.get(kept.id)
    assert pl.PaymentMethod.get(card.id).customer_id is None  # taken off the deleted customer


def test_a_deleted_card_is_taken_off_its_customer(lib):
    customer = pl.Customer.create(name="B", email="b@example.com")
    card = saved_card(customer.id, default_payment_method=True)
    card.delete()
    assert pl.Customer.get(customer.id).payment_methods == []
    again = pl.PaymentMethod.get(card.id)
    assert (again.customer_id, again.default_payment_method) == (None, False)


def test_a_bank_account_is_refused_by_name(lib):
    with pytest.raises(pl.InvalidAttributes) as info:
        pl.BankAccount.create(account_number="123456789", routing_number="021000021")
    assert "bank_account" in info.value.response["error_description"]
    assert pl.PaymentMethod.all() == []


# --- webhooks ----------------------------------------------------------------------------------

SENDER_SECRET = "a-secret-of-the-merchants-own-choice"


def verified(request: dict, secret: str) -> dict:
    """As Payload documents it: the hex HMAC-SHA256 of the raw body, keyed with the webhook's
    sender secret, in `X-Payload-Signature`."""
    expected = hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, request["headers"]["x-payload-signature"])
    return json.loads(request["body"])


def test_each_trigger_is_posted_signed_as_payload_documents(lib, receiver):
    hooks = {
        trigger: pl.Webhook.create(
            trigger=trigger, url=f"{receiver.url}/{trigger}", sender_secret=SENDER_SECRET
        )
        for trigger in ("payment", "processed", "authorized", "decline", "refund", "void")
    }
    assert isinstance(hooks["payment"], pl.Webhook)
    assert hooks["payment"].sender_secret is None  # write only
    paid = pl.Payment.create(amount=3, payment_method_id=saved_card().id)
    held = pl.Payment.create(amount=4, payment_method_id=saved_card().id, status="authorized")
    held.void()
    with pytest.raises(pl.TransactionDeclined) as info:
        pl.Payment.create(amount=5, payment_method_id=saved_card(number=DECLINED_CARD).id)
    declined = info.value.transaction
    refund = pl.Refund.create(amount=1, ledger=[pl.Ledger(assoc_transaction_id=paid.id)])
    deliver_everything()

    got: dict[str, list] = {}
    for request in receiver.requests:
        body = verified(request, SENDER_SECRET)
        assert body["object"] == "webhook_trigger"
        assert request["path"].endswith(f"/{body['trigger']}")
        got.setdefault(body["trigger"], []).append(
            (body["triggered_on"]["id"], body["triggered_on"]["value"])
        )
        assert body["triggered_on"]["object"] == "transaction"
    assert sorted(got["payment"]) == sorted(
        [(paid.id, "processed"), (held.id, "authorized"), (declined.id, "declined")]
    )
    assert got["processed"] == [(paid.id, "processed")]
    assert got["authorized"] == [(held.id, "authorized")]
    assert got["decline"] == [(declined.id, "declined")]
    assert got["void"] == [(held.id, "voided")]
    assert got["refund"] == [(refund.id, "processed")]


def test_webhooks_are_listed_updated_and_deleted_with_a_secret_made_when_not_given(lib, receiver):
    hook = pl.Webhook.create(trigger="processed", url=receiver.url)
    secret = hook.sender_secret
    assert len(secret) >= 16  # made by the service, shown this once
    assert pl.Webhook.get(hook.id).sender_secret is None
    assert [h.id for h in pl.Webhook.all()] == [hook.id]
    hook.update(trigger="refund")
    assert pl.Webhook.get(hook.id).trigger == "refund"
    paid = pl.Payment.create(amount=2, payment_method_id=saved_card().id)
    pl.Refund.create(amount=2, ledger=[pl.Ledger(assoc_transaction_id=paid.id)])
    deliver_everything()
    [request] = receiver.requests
    assert verified(request, secret)["trigger"] == "refund"
    hook.delete()
    assert pl.Webhook.all() == []


@pytest.mark.parametrize(
    "attributes",
    [
        {"trigger": "chargeback"},
        {"trigger": "processed", "oauth_params": {"client_id": "x", "client_secret": "y"}},
    ],
)
def test_what_webhooks_here_cannot_do_is_refused_by_name(lib, receiver, attributes):
    with pytest.raises(pl.InvalidAttributes) as info:
        pl.Webhook.create(url=receiver.url, **attributes)
    named = "oauth_params" if "oauth_params" in attributes else "trigger"
    assert named in info.value.details
    assert pl.Webhook.all() == []


def test_a_payment_made_in_the_stripe_dialect_is_read_here(lib, keys):
    stripe = StripeTestClient(key=keys.sk)
    pi = stripe.post(
        "/v1/payment_intents",
        {"amount": 1234, "currency": "eur", "payment_method": "pm_card_visa", "confirm": "true"},
    ).json()
    payment = pl.Transaction.get(pi["latest_charge"])
    assert isinstance(payment, pl.Payment)
    # /v1/'s default capture is the service's own, after the authorisation: under way
    assert (payment.amount, payment.status) == (12.34, "processing")
