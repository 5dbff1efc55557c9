"""The official `payload-api` library (0.5.1), unmodified, against a live server: only
`pl.api_url` is set (to `<base>/payload/`, with the trailing slash its `urljoin` needs) and
`pl.api_key`. Every intent type the service honours is created through it and paid (or its
card saved) on the hosted page in headless Chromium until the library reads it `finished`."""

from __future__ import annotations

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
