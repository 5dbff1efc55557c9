"""The hosted checkout page in a real browser (headless Chromium) against a live server: the
customer's real path — the browser's own form POST (its Origin and Referer under the page's
Referrer-Policy), redirects, frames, postMessage, CSP — ending on the merchant's site, which is
a small HTTP server on another origin (127.0.0.1 where the live server is localhost) that also
serves the merchant page framing the plugin and receives the webhooks."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from django.utils import timezone
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from checkout_pages.models import CheckoutIntent
from intents.models import PaymentIntent
from payments.models import Charge, PaymentMethod
from tests.conftest import WorkerProcess, redis_url, save_screenshot, wait_for
from tests.events.conftest import WORKER_ENV, point_app_at
from tests.helpers import StripeTestClient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.long(30)]

SHOP_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>The Shop</h1><p id="ready">ready</p>
<script src="%(live)s/static/checkout/checkout.js"></script>
<script>
  function log(e) {
    var seen = JSON.parse(sessionStorage.getItem("events") || "[]");
    seen.push(e.type || "closed");
    sessionStorage.setItem("events", JSON.stringify(seen));
  }
  sessionStorage.setItem("events", "[]");
  var checkout = PayIntents.checkout({ clientToken: "%(token)s" });
  ["loaded", "processing", "declined", "success", "closed"].forEach(function (type) {
    checkout.on(type, function (e) { e.type = type; log(e); });
  });
</script></body></html>"""


class Merchant:
    """The merchant's site: `/done` (completed_url), `/shop` (a page framing the plugin) and
    `/hooks` (a webhook receiver), on 127.0.0.1 — another origin than the live server."""

    def __init__(self):
        self.hooks: list[dict] = []
        self.live = ""
        merchant = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlsplit(self.path)
                if url.path == "/shop":
                    token = parse_qs(url.query)["token"][0]
                    body = SHOP_PAGE % {"live": merchant.live, "token": token}
                else:
                    body = f"<!doctype html><title>Thanks</title><h1 id='thanks'>{url.path}</h1>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body.encode())

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                merchant.hooks.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def hook_types(self, object_id: str) -> list[str]:
        return [e["type"] for e in self.hooks if e["data"]["object"].get("id") == object_id]


@pytest.fixture
def merchant(live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url  # the 3-D Secure links point at the live server
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    shop = Merchant()
    shop.live = live_server.url
    shop.thread.start()
    yield shop
    shop.server.shutdown()


@pytest.fixture
def hooks_worker(transactional_db, settings):
    """A real worker with beat on Redis that delivers webhooks to 127.0.0.1."""
    url = redis_url()
    redis.Redis.from_url(url).flushdb()
    point_app_at(url, settings)
    worker = WorkerProcess(broker_url=url, beat=True, extra_env=dict(WORKER_ENV)).start()
    yield worker
    worker.stop()


@pytest.fixture
def api(acct):
    return StripeTestClient(key=acct.sk)


def make(api, merchant, **params) -> dict:
    body = {
        "type": "checkout_page",
        "amount": 4900,
        "currency": "usd",
        "description": "Annual plan",
        "redirects": {
            "completed_url": f"{merchant.origin}/done",
            "return_url": f"{merchant.origin}/cart",
        },
        **params,
    }
    body = {key: value for key, value in body.items() if value is not None}
    response = api.post("/v1/checkout_intents", body)
    assert response.status_code == 200, response
    return response.json()


def fill(driver, number: str = "4242 4242 4242 4242", **extra) -> None:
    for name, value in {
        "number": number,
        "exp": "12 / 34",
        "cvc": "123",
        "name": "Jenny Rosen",
        **extra,
    }.items():
        field = driver.find_element(By.ID, name)
        field.clear()
        field.send_keys(value)


def wait_url(driver, prefix: str) -> str:
    WebDriverWait(driver, 20).until(lambda d: d.current_url.startswith(prefix))
    return driver.current_url


def completed(merchant, ci: dict, status: str = "finished") -> str:
    return f"{merchant.origin}/done?checkout_intent={ci['id']}&status={status}"


@pytest.mark.redis
def test_pay_with_4242_ends_on_completed_url_and_delivers_the_events(
    browser, api, merchant, hooks_worker
):
    endpoint = api.post(
        "/v1/webhook_endpoints", {"url": f"{merchant.origin}/hooks", "enabled_events": ["*"]}
    )
    assert endpoint.status_code == 200, endpoint
    ci = make(api, merchant)
    browser.get(ci["url"])
    assert "$49.00" in browser.find_element(By.ID, "amount-due").text
    fill(browser)
    save_screenshot(browser, "checkout-form")
    browser.find_element(By.ID, "pay").click()
    assert wait_url(browser, f"{merchant.origin}/done") == completed(merchant, ci)
    assert CheckoutIntent.objects.get(id=ci["id"]).status == "finished"
    browser.get(ci["url"])
    assert "Payment complete" in browser.find_element(By.ID, "status").text
    save_screenshot(browser, "checkout-finished")
    wait_for(
        lambda: "checkout_intent.finished" in merchant.hook_types(ci["id"]),
        timeout=30,
        message="checkout_intent.finished delivered",
    )
    assert merchant.hook_types(ci["id"]) == ["checkout_intent.created", "checkout_intent.finished"]
    pi_id = CheckoutIntent.objects.get(id=ci["id"]).payment_intent_id
    wait_for(lambda: "payment_intent.succeeded" in merchant.hook_types(pi_id), timeout=30)


@pytest.mark.redis
def test_decline_then_pay_is_two_attempts_on_one_payment_intent(
    browser, api, merchant, hooks_worker
):
    endpoint = api.post(
        "/v1/webhook_endpoints",
        {
            "url": f"{merchant.origin}/hooks",
            "enabled_events": ["checkout_intent.payment_failed", "checkout_intent.finished"],
        },
    )
    assert endpoint.status_code == 200, endpoint
    ci = make(api, merchant)
    browser.get(ci["url"])
    fill(browser, "4000 0000 0000 0002")
    browser.find_element(By.ID, "pay").click()
    decline = WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "decline")))
    assert "Your card was declined" in decline.text
    save_screenshot(browser, "checkout-declined")
    fill(browser)
    browser.find_element(By.ID, "pay").click()
    assert wait_url(browser, f"{merchant.origin}/done") == completed(merchant, ci)
    charges = list(Charge.objects.order_by("created").values_list("payment_intent_id", "status"))
    assert [status for _, status in charges] == ["failed", "succeeded"]
    assert len({pi for pi, _ in charges}) == 1 and PaymentIntent.objects.count() == 1
    wait_for(lambda: "checkout_intent.finished" in merchant.hook_types(ci["id"]), timeout=30)
    assert merchant.hook_types(ci["id"]) == [
        "checkout_intent.payment_failed",
        "checkout_intent.finished",
    ]


def test_3d_secure_failed_then_completed_comes_back_to_the_page(browser, api, merchant):
    ci = make(api, merchant)
    browser.get(ci["url"])
    fill(browser, "4000 0027 6000 3184")
    browser.find_element(By.ID, "pay").click()
    WebDriverWait(browser, 20).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "button.fail"))
    )
    browser.find_element(By.CSS_SELECTOR, "button.fail").click()
    decline = WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "decline")))
    assert "Your bank could not confirm this payment" in decline.text
    assert "/checkout/" in browser.current_url
    fill(browser, "4000 0027 6000 3184")
    browser.find_element(By.ID, "pay").click()
    WebDriverWait(browser, 20).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "button.complete"))
    )
    browser.find_element(By.CSS_SELECTOR, "button.complete").click()
    assert wait_url(browser, f"{merchant.origin}/done") == completed(merchant, ci)
    assert list(Charge.objects.order_by("created").values_list("status", flat=True)) == [
        "failed",
        "succeeded",
    ]


def test_an_expired_intent_shows_the_status_page_and_no_form(browser, api, merchant):
    ci = make(api, merchant)
    CheckoutIntent.objects.filter(id=ci["id"]).update(expires_at=timezone.now())
    browser.get(ci["url"])
    assert "expired" in browser.find_element(By.ID, "status").text
    assert browser.find_elements(By.ID, "checkout-form") == []
    assert browser.find_elements(By.ID, "number") == []


def test_double_click_on_pay_charges_once(browser, api, merchant):
    ci = make(api, merchant)
    browser.get(ci["url"])
    fill(browser)
    ActionChains(browser).double_click(browser.find_element(By.ID, "pay")).perform()
    assert wait_url(browser, f"{merchant.origin}/done") == completed(merchant, ci)
    assert Charge.objects.count() == 1
    assert CheckoutIntent.objects.get(id=ci["id"]).status == "finished"


def test_plugin_in_an_iframe_of_an_allowed_origin_pays_and_tells_the_parent(browser, api, merchant):
    ci = make(api, merchant, type="checkout_plugin", allowed_origins=[merchant.origin])
    browser.get(f"{merchant.origin}/shop?token={ci['client_token']}")
    frame = WebDriverWait(browser, 20).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "[data-payintents-modal] iframe"))
    )
    browser.switch_to.frame(frame)
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "checkout-form")))
    fill(browser)
    browser.find_element(By.ID, "pay").click()
    browser.switch_to.default_content()
    assert wait_url(browser, f"{merchant.origin}/done") == completed(merchant, ci)
    events = json.loads(browser.execute_script("return sessionStorage.getItem('events')"))
    assert events == ["loaded", "processing", "success"]
    assert CheckoutIntent.objects.get(id=ci["id"]).status == "finished"


def test_plugin_refuses_to_render_in_a_frame_of_another_origin(browser, api, merchant):
    ci = make(api, merchant, type="checkout_plugin", allowed_origins=["https://shop.example.com"])
    browser.get(f"{merchant.origin}/shop?token={ci['client_token']}")
    frame = WebDriverWait(browser, 20).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "[data-payintents-modal] iframe"))
    )
    browser.switch_to.frame(frame)
    assert browser.find_elements(By.ID, "checkout-form") == []
    browser.switch_to.default_content()
    assert json.loads(browser.execute_script("return sessionStorage.getItem('events')")) == []


def test_payment_method_form_saves_a_card_to_the_customer(browser, api, merchant):
    customer = api.post("/v1/customers", {"email": "jenny@example.com"}).json()
    ci = make(
        api,
        merchant,
        type="payment_method_form",
        customer=customer["id"],
        amount=None,
        currency=None,
        allowed_origins=[merchant.origin],
    )
    browser.get(f"{merchant.live}/checkout/{ci['client_token']}")
    assert browser.find_element(By.ID, "pay").text == "Save card"
    fill(browser, "5555 5555 5555 4444")
    browser.find_element(By.ID, "pay").click()
    assert wait_url(browser, f"{merchant.origin}/done") == completed(merchant, ci)
    saved = CheckoutIntent.objects.get(id=ci["id"])
    assert saved.status == "finished" and saved.payment_method_id
    pm = PaymentMethod.objects.get(id=saved.payment_method_id)
    assert (pm.customer_id, pm.card_last4) == (customer["id"], "4444")
    assert not Charge.objects.exists()
