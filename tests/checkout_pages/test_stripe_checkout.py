"""Stripe Checkout as a shop written against Stripe uses it: the official `stripe` library,
unmodified, pointed at a live server by its base URL only, makes Products, Prices, Checkout
Sessions, Payment Links and SetupIntents; the shopper pays on the hosted page in headless
Chromium; the shop's webhook receiver (another origin) checks `checkout.session.completed`
with `stripe.Webhook.construct_event`."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
import stripe
from django.contrib.auth import get_user_model
from django.utils import timezone
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from checkout_pages.services import checkout_intents_expire_due
from events.models import Event
from intents.models import PaymentIntent
from intents.services import payment_intent_resolve_processing
from tests.conftest import WorkerProcess, make_account, redis_url, save_screenshot, wait_for
from tests.events.conftest import WORKER_ENV, point_app_at

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.long(60)]


class Shop:
    """The merchant's site on 127.0.0.1 (another origin than the live server): `/success`,
    `/cancel`, and `/hooks`, which keeps each webhook's raw body and Stripe-Signature."""

    def __init__(self):
        self.hooks: list[tuple[bytes, str]] = []
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = f"<!doctype html><title>Shop</title><h1 id='thanks'>{self.path}</h1>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body.encode())

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                shop.hooks.append((self.rfile.read(length), self.headers.get("Stripe-Signature")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def events(self, secret: str) -> list[stripe.Event]:
        """Every webhook received, each checked as a Stripe shop checks it."""
        return [
            stripe.Webhook.construct_event(body.decode(), signature, secret)
            for body, signature in list(self.hooks)
        ]


@pytest.fixture
def shop(live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    shop = Shop()
    yield shop
    shop.server.shutdown()


@pytest.fixture
def keys(transactional_db):
    return make_account("Fern & Co")


@pytest.fixture
def client(live_server, keys) -> stripe.StripeClient:
    return stripe.StripeClient(
        keys.sk, base_addresses={"api": live_server.url}, max_network_retries=0
    )


@pytest.fixture
def hooks_worker(transactional_db, settings):
    url = redis_url()
    redis.Redis.from_url(url).flushdb()
    point_app_at(url, settings)
    worker = WorkerProcess(broker_url=url, beat=True, extra_env=dict(WORKER_ENV)).start()
    yield worker
    worker.stop()


def a_price(client, amount=1500, name="Linen apron") -> stripe.Price:
    product = client.v1.products.create(params={"name": name})
    return client.v1.prices.create(
        params={"product": product.id, "unit_amount": amount, "currency": "eur"}
    )


def a_session(client, shop, **params) -> stripe.checkout.Session:
    body = {
        "mode": "payment",
        "success_url": f"{shop.origin}/success?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{shop.origin}/cancel",
        **params,
    }
    if body["mode"] == "payment" and "line_items" not in body:
        body["line_items"] = [
            {"price": a_price(client).id, "quantity": 2},
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 450,
                    "product_data": {"name": "Gift wrap"},
                },
                "quantity": 1,
            },
        ]
    return client.v1.checkout.sessions.create(params=body)


def fill(driver, number="4242 4242 4242 4242"):
    for name, value in {"number": number, "exp": "12 / 34", "cvc": "123", "name": "Ada L"}.items():
        field = driver.find_element(By.ID, name)
        field.clear()
        field.send_keys(value)


def pay(driver, number="4242 4242 4242 4242"):
    fill(driver, number)
    driver.find_element(By.ID, "pay").click()


def wait_url(driver, prefix: str) -> str:
    WebDriverWait(driver, 20).until(lambda d: d.current_url.startswith(prefix))
    return driver.current_url


# --- the API through stripe-python ----------------------------------------------------------


def test_products_and_prices_through_the_library(client):
    product = client.v1.products.create(params={"name": "Apron", "metadata": {"sku": "A1"}})
    assert isinstance(product, stripe.Product) and product.id.startswith("prod_")
    price = client.v1.prices.create(
        params={"product": product.id, "unit_amount": 1999, "currency": "usd"}
    )
    assert isinstance(price, stripe.Price)
    assert (price.unit_amount, price.type, price.product) == (1999, "one_time", product.id)
    assert client.v1.products.update(product.id, params={"name": "Apron II"}).name == "Apron II"
    assert client.v1.prices.update(price.id, params={"active": False}).active is False
    assert [p.id for p in client.v1.prices.list(params={"product": product.id}).data] == [price.id]
    assert client.v1.products.retrieve(product.id).metadata["sku"] == "A1"
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.prices.create(
            params={
                "product": product.id,
                "unit_amount": 500,
                "currency": "usd",
                "recurring": {"interval": "month"},
            }
        )
    assert error.value.param == "recurring"


def test_a_session_shows_its_line_items_and_total(client, shop):
    session = a_session(client, shop)
    assert isinstance(session, stripe.checkout.Session)
    assert session.id.startswith("cs_")
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert (session.amount_total, session.currency) == (3450, "eur")
    assert session.url.startswith("http")
    items = client.v1.checkout.sessions.line_items.list(session.id)
    assert [(i.description, i.quantity, i.amount_total) for i in items.data] == [
        ("Linen apron", 2, 3000),
        ("Gift wrap", 1, 450),
    ]
    again = client.v1.checkout.sessions.retrieve(session.id)
    assert again.url == session.url
    assert client.v1.checkout.sessions.list(params={"status": "open"}).data[0].id == session.id


def test_session_input_errors_name_their_parameter(client, shop):
    with pytest.raises(stripe.InvalidRequestError) as error:
        a_session(client, shop, mode="subscription")
    assert error.value.param == "mode"
    # out of the document's enum, and still told why
    assert "this service has no billing engine" in error.value.user_message
    with pytest.raises(stripe.InvalidRequestError) as error:
        a_session(client, shop, line_items=[{"price": "price_nope", "quantity": 1}])
    assert error.value.param == "line_items[0][price]"
    with pytest.raises(stripe.InvalidRequestError) as error:
        a_session(client, shop, expires_at=int(time.time()) + 60)
    assert error.value.param == "expires_at"
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.checkout.sessions.retrieve("cs_doesnotexist")
    assert error.value.http_status == 404


def test_setup_intents_through_the_library(client):
    customer = client.v1.customers.create(params={"email": "ada@example.com"})
    si = client.v1.setup_intents.create(params={"customer": customer.id})
    assert isinstance(si, stripe.SetupIntent) and si.id.startswith("seti_")
    assert si.status == "requires_payment_method"
    si = client.v1.setup_intents.confirm(si.id, params={"payment_method": "pm_card_visa"})
    assert si.status == "succeeded"
    methods = client.v1.customers.payment_methods.list(customer.id)
    assert [m.id for m in methods.data] == [si.payment_method]
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.setup_intents.cancel(si.id)
    assert error.value.code == "setup_intent_unexpected_state"
    other = client.v1.setup_intents.create(params={"customer": customer.id})
    assert client.v1.setup_intents.cancel(other.id).status == "canceled"
    listed = client.v1.setup_intents.list(params={"customer": customer.id})
    assert {s.id for s in listed.data} == {si.id, other.id}
    declined = client.v1.setup_intents.create(params={"customer": customer.id})
    with pytest.raises(stripe.CardError) as card_error:
        client.v1.setup_intents.confirm(
            declined.id, params={"payment_method": "pm_card_chargeDeclined"}
        )
    assert card_error.value.code == "card_declined"
    failed = card_error.value.error.setup_intent
    assert (failed.id, failed.status) == (declined.id, "requires_payment_method")
    assert failed.last_setup_error.decline_code == "generic_decline"
    challenged = client.v1.setup_intents.create(
        params={
            "customer": customer.id,
            "payment_method": "pm_card_authenticationRequired",
            "confirm": True,
            "return_url": "https://shop.example/saved",
        }
    )
    assert challenged.status == "requires_action"
    assert challenged.next_action.type == "redirect_to_url"
    assert "/authenticate/setup_intents/" in challenged.next_action.redirect_to_url.url


# --- paid through the hosted page -------------------------------------------------------------


@pytest.mark.redis
def test_paid_on_the_page_completes_and_the_webhook_verifies(client, shop, browser, hooks_worker):
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": f"{shop.origin}/hooks", "enabled_events": ["checkout.session.completed"]}
    )
    session = a_session(client, shop, client_reference_id="order-7")
    browser.get(session.url)
    lines = browser.find_element(By.ID, "line-items").text
    assert "Linen apron × 2" in lines and "Gift wrap" in lines
    assert "34.50" in browser.find_element(By.ID, "amount-due").text
    save_screenshot(browser, "session-open")
    pay(browser)
    assert wait_url(browser, f"{shop.origin}/success") == (
        f"{shop.origin}/success?session_id={session.id}"
    )
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status, done.url) == ("complete", "paid", None)
    assert done.customer_details.name == "Ada L"
    pi = client.v1.payment_intents.retrieve(done.payment_intent)
    assert (pi.status, pi.amount, pi.currency) == ("succeeded", 3450, "eur")
    wait_for(lambda: shop.hooks, timeout=30, message="checkout.session.completed delivered")
    events = shop.events(endpoint.secret)
    assert [(e.type, e.data.object.id) for e in events] == [
        ("checkout.session.completed", session.id)
    ]
    assert events[0].data.object.client_reference_id == "order-7"
    assert events[0].data.object.payment_status == "paid"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(shop.hooks[0][0].decode(), shop.hooks[0][1], "whsec_wrong")
    browser.get(session.url)
    assert "Payment complete" in browser.find_element(By.ID, "status").text
    save_screenshot(browser, "session-complete")


def test_a_decline_then_a_good_card_pays_once(client, shop, browser):
    session = a_session(client, shop)
    browser.get(session.url)
    pay(browser, "4000 0000 0000 0002")
    decline = WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "decline")))
    assert "declined" in decline.text
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert axe_violations(browser) == []
    save_screenshot(browser, "session-declined")
    pay(browser)
    wait_url(browser, f"{shop.origin}/success")
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert done.payment_status == "paid"
    charges = client.v1.charges.list(params={"payment_intent": done.payment_intent}).data
    assert sorted(c.status for c in charges) == ["failed", "succeeded"]


def test_3d_secure_on_the_page_completes_the_session(client, shop, browser):
    session = a_session(client, shop)
    browser.get(session.url)
    pay(browser, "4000 0027 6000 3184")
    WebDriverWait(browser, 20).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "button.complete"))
    )
    save_screenshot(browser, "session-3ds")
    browser.find_element(By.CSS_SELECTOR, "button.complete").click()
    wait_url(browser, f"{shop.origin}/success?session_id={session.id}")
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"


def test_an_expired_session_shows_no_form_and_cannot_be_expired_twice(client, shop, browser):
    session = a_session(client, shop)
    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    browser.get(session.url)
    assert "expired" in browser.find_element(By.ID, "status").text
    assert not browser.find_elements(By.ID, "pay")
    assert axe_violations(browser) == []
    save_screenshot(browser, "session-expired")
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.checkout.sessions.expire(session.id)
    assert error.value.code == "checkout_session_unexpected_state"


def test_a_setup_session_saves_the_card_and_leaves_a_setup_intent(client, shop, browser):
    customer = client.v1.customers.create(params={"email": "grace@example.com"})
    session = a_session(client, shop, mode="setup", customer=customer.id)
    assert (session.payment_status, session.amount_total) == ("no_payment_required", None)
    browser.get(session.url)
    pay(browser)
    wait_url(browser, f"{shop.origin}/success")
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert done.status == "complete" and done.setup_intent.startswith("seti_")
    si = client.v1.setup_intents.retrieve(done.setup_intent)
    assert (si.status, si.customer) == ("succeeded", customer.id)
    methods = client.v1.customers.payment_methods.list(customer.id)
    assert [m.id for m in methods.data] == [si.payment_method]


def test_a_setup_session_refuses_a_declining_card_then_saves_one_after_3d_secure(
    client, shop, browser
):
    customer = client.v1.customers.create(params={"email": "alan@example.com"})
    session = a_session(client, shop, mode="setup", customer=customer.id)
    browser.get(session.url)
    pay(browser, "4000 0000 0000 9995")
    decline = WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "decline")))
    assert "insufficient funds" in decline.text
    assert browser.switch_to.active_element == decline
    assert browser.find_element(By.ID, "number").get_attribute("value") == "4000 0000 0000 9995"
    assert client.v1.customers.payment_methods.list(customer.id).data == []
    pay(browser, "4000 0027 6000 3184")
    WebDriverWait(browser, 20).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "button.complete"))
    )
    assert "saving this card" in browser.page_source
    save_screenshot(browser, "setup-3ds")
    browser.find_element(By.CSS_SELECTOR, "button.complete").click()
    wait_url(browser, f"{shop.origin}/success?session_id={session.id}")
    done = client.v1.checkout.sessions.retrieve(session.id)
    si = client.v1.setup_intents.retrieve(done.setup_intent)
    assert (done.status, si.status, si.last_setup_error) == ("complete", "succeeded", None)
    methods = client.v1.customers.payment_methods.list(customer.id)
    assert [(m.id, m.card.last4) for m in methods.data] == [(si.payment_method, "3184")]
    types = Event.objects.filter(object_id=si.id).order_by("created", "id")
    assert list(types.values_list("type", flat=True)) == [
        "setup_intent.created",
        "setup_intent.setup_failed",
        "setup_intent.requires_action",
        "setup_intent.succeeded",
    ]


def test_a_payment_link_visited_twice_makes_two_sessions(client, shop, browser):
    price = a_price(client, amount=2500, name="Workshop seat")
    link = client.v1.payment_links.create(
        params={
            "line_items": [{"price": price.id, "quantity": 1}],
            "after_completion": {
                "type": "redirect",
                "redirect": {"url": f"{shop.origin}/success?cs={{CHECKOUT_SESSION_ID}}"},
            },
        }
    )
    assert isinstance(link, stripe.PaymentLink) and link.id.startswith("plink_")
    browser.get(link.url)
    first = browser.current_url
    assert (
        "/checkout/" in first and "Workshop seat" in browser.find_element(By.ID, "line-items").text
    )
    pay(browser)
    wait_url(browser, f"{shop.origin}/success?cs=cs_")
    browser.get(link.url)
    assert browser.current_url != first
    sessions = client.v1.checkout.sessions.list(params={"payment_link": link.id}).data
    assert sorted(s.status for s in sessions) == ["complete", "open"]
    client.v1.payment_links.update(link.id, params={"active": False})
    browser.get(link.url)
    assert "no longer available" in browser.find_element(By.ID, "status").text
    assert len(client.v1.checkout.sessions.list(params={"payment_link": link.id}).data) == 2
    assert urlsplit(link.url).path.startswith("/pay/")


def test_another_accounts_session_is_a_404(client, shop, live_server):
    session = a_session(client, shop)
    other = make_account("Other Co")
    other_client = stripe.StripeClient(
        other.sk, base_addresses={"api": live_server.url}, max_network_retries=0
    )
    with pytest.raises(stripe.InvalidRequestError) as error:
        other_client.v1.checkout.sessions.retrieve(session.id)
    assert error.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as error:
        other_client.v1.checkout.sessions.expire(session.id)
    assert error.value.http_status == 404
    assert json.loads(json.dumps(client.v1.checkout.sessions.retrieve(session.id).status)) == "open"


# --- search through stripe-python -----------------------------------------------------------


def test_customers_and_charges_are_searchable(client):
    ada = client.v1.customers.create(params={"email": "ada@example.com", "name": "Ada"})
    client.v1.customers.create(params={"email": "bob@example.com", "metadata": {"tier": "gold"}})
    found = client.v1.customers.search(params={"query": "email:'ada@example.com'"})
    assert [c.id for c in found.data] == [ada.id]
    gold = client.v1.customers.search(params={"query": "metadata['tier']:'gold'"})
    assert [c.email for c in gold.data] == ["bob@example.com"]
    assert client.v1.customers.search(params={"query": "name~'Ada' OR -email:null"}).data
    pi = client.v1.payment_intents.create(
        params={"amount": 2500, "currency": "usd", "customer": ada.id}
    )
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(
            pi.id, params={"payment_method": "pm_card_chargeDeclined"}
        )
    client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    failed = client.v1.charges.search(
        params={"query": f"status:'failed' AND customer:'{ada.id}' AND amount>=2500"}
    )
    assert [(c.status, c.payment_intent) for c in failed.data] == [("failed", pi.id)]
    both = client.v1.charges.search(params={"query": f"payment_intent:'{pi.id}'", "limit": 1})
    assert both.has_more is True and len(both.data) == 1
    rest = client.v1.charges.search(
        params={"query": f"payment_intent:'{pi.id}'", "page": both.next_page}
    )
    assert {c.id for c in both.data + rest.data} == {
        c.id for c in client.v1.charges.list(params={"payment_intent": pi.id}).data
    }
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.customers.search(params={"query": "amount>5"})
    assert error.value.param == "query" and "unknown field" in error.value.user_message


# --- the console ------------------------------------------------------------------------------


def test_the_console_lists_sessions_links_and_setup_intents_and_expires_a_session(
    client, shop, browser, live_server
):
    session = a_session(client, shop, client_reference_id="order-42")
    link = client.v1.payment_links.create(
        params={"line_items": [{"price": a_price(client).id, "quantity": 1}]}
    )
    customer = client.v1.customers.create(params={"email": "ops-test@example.com"})
    si = client.v1.setup_intents.create(params={"customer": customer.id})
    get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-ops-123")
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.ID, "id_username").send_keys("ops")
    browser.find_element(By.ID, "id_password").send_keys("pw-ops-123")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: "/login/" not in d.current_url)
    browser.get(f"{live_server.url}/admin/checkout_pages/checkoutsession/")
    listing = browser.find_element(By.ID, "result_list").text
    assert session.id in listing and "order-42" in listing and "open" in listing
    save_screenshot(browser, "console-sessions")
    browser.get(f"{live_server.url}/admin/checkout_pages/paymentlink/")
    assert link.id in browser.find_element(By.ID, "result_list").text
    save_screenshot(browser, "console-payment-links")
    browser.get(f"{live_server.url}/admin/intents/setupintent/")
    assert si.id in browser.find_element(By.ID, "result_list").text
    save_screenshot(browser, "console-setup-intents")
    browser.get(f"{live_server.url}/admin/checkout_pages/checkoutsession/{session.id}/change/")
    browser.find_element(By.ID, "console-expire_checkout_sessions").click()
    assert (
        "Expired 1 Checkout Session(s)."
        in browser.find_element(By.CSS_SELECTOR, ".messagelist").text
    )
    save_screenshot(browser, "console-session-expired")
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    browser.get(f"{live_server.url}/admin/checkout_pages/checkoutsession/{session.id}/change/")
    browser.find_element(By.ID, "console-expire_checkout_sessions").click()
    assert "open" in browser.find_element(By.CSS_SELECTOR, ".messagelist").text


# --- the page a shopper trusts ----------------------------------------------------------------

AXE = Path(__file__).resolve().parents[1] / "node" / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(driver) -> list[dict]:
    """axe-core (pinned in tests/node/package.json) run in the page: its serious and critical
    violations."""
    if not AXE.exists():
        from tests.node.test_stripe_node import install_node_modules

        install_node_modules()
    driver.execute_script(AXE.read_text())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.map(n => n.target.join(' '))}))));"
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def test_an_error_is_tied_to_its_field_focused_and_keeps_what_was_typed(client, shop, browser):
    session = a_session(client, shop)
    browser.get(session.url)
    assert axe_violations(browser) == []
    fill(browser, "4242 4242 4242 4241")  # fails the Luhn check
    browser.find_element(By.ID, "pay").click()
    number = WebDriverWait(browser, 20).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "#number[aria-invalid=true]"))
    )
    described = number.get_attribute("aria-describedby")
    assert browser.find_element(By.ID, described).text
    assert browser.switch_to.active_element == number
    # what was typed is kept (the number too, from the POST) but the CVC
    assert number.get_attribute("value") == "4242 4242 4242 4241"
    assert browser.find_element(By.ID, "exp").get_attribute("value") == "12 / 34"
    assert browser.find_element(By.ID, "name").get_attribute("value") == "Ada L"
    assert browser.find_element(By.ID, "cvc").get_attribute("value") == ""
    assert axe_violations(browser) == []
    save_screenshot(browser, "session-field-error")


# Each visible element's own text, with the WCAG contrast ratio of its colour against the first
# opaque background behind it.
CONTRAST = """
function channel(v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }
function parts(c) { return c.match(/[\\d.]+/g).map(Number); }
function luminance(c) { const p = parts(c); return 0.2126 * channel(p[0]) + 0.7152 * channel(p[1]) + 0.0722 * channel(p[2]); }
function backdrop(el) {
  for (; el; el = el.parentElement) {
    const c = getComputedStyle(el).backgroundColor, p = parts(c);
    if (p.length < 4 || p[3] > 0.99) return c;
  }
  return "rgb(255, 255, 255)";
}
const found = [];
for (const el of document.querySelectorAll("body *")) {
  const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  const style = getComputedStyle(el);
  if (!text || style.visibility === "hidden" || !el.getClientRects().length) continue;
  const a = luminance(style.color), b = luminance(backdrop(el));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  found.push([el.id || el.className || el.tagName, Math.round(ratio * 100) / 100]);
}
return found;
"""


def test_every_text_has_a_contrast_of_at_least_4_5_and_nothing_loads_from_elsewhere(
    client, shop, browser, live_server
):
    session = a_session(client, shop)
    browser.get(session.url)
    fill(browser, "4000 0000 0000 0069")  # an expired card: a decline at its field
    browser.find_element(By.ID, "pay").click()
    WebDriverWait(browser, 20).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "#exp[aria-invalid=true]"))
    )
    texts = browser.execute_script(CONTRAST)
    names = {name for name, _ in texts}
    assert {"footer", "test-mode", "exp-error-1", "merchant-name"} <= names, names
    assert [(name, ratio) for name, ratio in texts if ratio < 4.5] == []
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map(r => r.name)"
    )
    assert loaded and all(url.startswith(live_server.url) for url in loaded), loaded
    assert axe_violations(browser) == []


def test_the_number_is_grouped_as_typed_the_brand_shown_and_test_mode_marked(client, shop, browser):
    session = a_session(client, shop)
    browser.get(session.url)
    assert browser.find_element(By.ID, "test-mode").text == "Test mode"
    number = browser.find_element(By.ID, "number")
    number.send_keys("4242424242424242")
    assert number.get_attribute("value") == "4242 4242 4242 4242"
    assert browser.find_element(By.ID, "card-brand").text == "Visa"
    number.clear()
    number.send_keys("378282246310005")
    assert number.get_attribute("value") == "3782 822463 10005"
    assert browser.find_element(By.ID, "card-brand").text == "American Express"
    number.clear()
    number.send_keys("5555555555554444")
    assert browser.find_element(By.ID, "card-brand").text == "Mastercard"
    save_screenshot(browser, "session-brand")


def test_the_page_works_at_390_px_and_with_the_keyboard_alone(client, shop, browser):
    browser.set_window_size(390, 844)
    session = a_session(client, shop)
    browser.get(session.url)
    width = browser.execute_script("return document.documentElement.clientWidth")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    pay_button = browser.find_element(By.ID, "pay").rect
    assert pay_button["x"] >= 0 and pay_button["x"] + pay_button["width"] <= width
    save_screenshot(browser, "session-390px")
    keys = ActionChains(browser)
    for _ in range(12):  # tab from the top of the page to the card number
        keys.send_keys(Keys.TAB).perform()
        if browser.switch_to.active_element.get_attribute("id") == "number":
            break
    assert browser.switch_to.active_element.get_attribute("id") == "number"
    for text in ("4242424242424242", "1234", "123", "Ada L"):
        ActionChains(browser).send_keys(text).send_keys(Keys.TAB).perform()
    assert browser.switch_to.active_element.get_attribute("id") == "pay"
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait_url(browser, f"{shop.origin}/success?session_id={session.id}")
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"


def test_the_expiry_sweep_expires_a_session_with_its_event(client, shop):
    session = a_session(client, shop)
    later = timezone.now() + timedelta(hours=25)
    assert checkout_intents_expire_due(now=later) == 1
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    expired = Event.objects.filter(type="checkout.session.expired")
    assert [e.data["object"]["id"] for e in expired] == [session.id]
    assert expired[0].data["object"]["status"] == "expired"
    client.v1.checkout.sessions.expire(a_session(client, shop).id)
    assert Event.objects.filter(type="checkout.session.expired").count() == 2


@pytest.mark.parametrize(
    ("number", "pi_status", "later_event"),
    [
        ("4000 0000 0000 0077", "succeeded", "checkout.session.async_payment_succeeded"),
        ("4000 0000 0000 0259", "requires_payment_method", "checkout.session.async_payment_failed"),
    ],
)
def test_a_payment_that_settles_later_completes_the_session_unpaid_then_tells_the_outcome(
    client, shop, browser, number, pi_status, later_event
):
    session = a_session(client, shop)
    browser.get(session.url)
    pay(browser, number)
    # the page's button reads "Processing…" as soon as it is pressed, before the server has the
    # payment: wait for the session to leave `open` instead
    WebDriverWait(browser, 20).until(
        lambda d: client.v1.checkout.sessions.retrieve(session.id).status != "open"
    )
    submitted = client.v1.checkout.sessions.retrieve(session.id)
    assert (submitted.status, submitted.payment_status) == ("complete", "unpaid")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)
    pi_id = submitted.payment_intent
    PaymentIntent.objects.filter(id=pi_id).update(processing_resolve_at=timezone.now())
    assert payment_intent_resolve_processing(payment_intent_id=pi_id)
    assert client.v1.payment_intents.retrieve(pi_id).status == pi_status
    types = list(
        Event.objects.filter(type__startswith="checkout.session.")
        .order_by("created")
        .values_list("type", flat=True)
    )
    assert types == ["checkout.session.completed", later_event]
    settled = client.v1.checkout.sessions.retrieve(session.id)
    assert settled.status == "complete"
    assert settled.payment_status == ("paid" if pi_status == "succeeded" else "unpaid")
